// Package calico holds what the cluster and node halves of Calico's removal share: the names that
// identify Calico's objects, and the filters that keep Cilium's and everyone else's out of reach.
//
// The work itself lives in two sub-packages: calico/cluster (backup, ordered removal and restore
// through the Kubernetes API) and calico/node (files, links, routes, firewall rules, ipsets and
// network namespaces on one host). Both compute a plan first and apply it second.
package calico
