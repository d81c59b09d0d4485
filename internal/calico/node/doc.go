// Package node removes what Calico leaves on a host once calico-node is gone: CNI conf files and
// plugins, state directories, cali* and tunnel links, bird/felix routes inside Calico's IP pools
// (never a default route, none when the pools are unknown), cali-* iptables chains and
// the rules that jump to them (iptables and ip6tables, nft and legacy backends), the nftables
// tables "calico", cali40*/cali60* ipsets and cali-* network namespaces.
//
// It observes the host first, computes a plan of named items, and only then removes them, in an
// order that keeps references valid (rules, then chains, then ipsets). Nothing outside Calico's
// names is ever part of a plan: see the filters in package calico.
//
// The same machinery removes Cilium's leftovers after a rollback (Parameters.CNI = CNICilium): which
// objects belong to which CNI is one table per CNI (owners.go), and neither table claims a name of
// the other's.
package node
