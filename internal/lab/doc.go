// Package lab brings up and tears down a local, offline, K3s-shaped Kubernetes cluster running
// Calico: the default target of the demo and of every integration test.
//
// The control plane is real (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, run by
// kwokctl's binary runtime from binaries built by hack/tools.sh); the nodes are kwok's fake nodes,
// named and labelled the way K3s names and labels them; each node has a node host (a network
// namespace with its own sshd, from internal/nethost) whose address is the node's InternalIP and
// whose files, links, iptables chains and ipsets look like those a real Calico node leaves behind.
// Calico itself is installed from its real manifests (calico.yaml, or the tigera-operator flavour)
// and a set of workloads modelled on the seed article's ML platform is deployed on top.
//
// Pod and Service IPs of the lab are fake: nothing may ever connect to them. Only loopback and the
// node hosts' addresses (198.18.0.0/15) carry traffic.
//
// Up persists what it creates in a state file in the lab's work directory before creating it, so
// Down, DownByName and Sweep can remove a lab even after Up (or the process running it) crashed.
package lab
