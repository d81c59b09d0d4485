// Package lab brings up and tears down a local, offline, K3s-shaped Kubernetes cluster running
// Calico: the default target of the demo and of every integration test.
//
//	cfg := lab.Defaults()             // 1 server + 2 agents, calico.yaml, workloads, node hosts
//	cfg.Calico = lab.CalicoOperator   // or lab.CalicoNone
//	l, err := lab.Up(ctx, cfg)        // returns when nodes, Calico and workloads are ready
//	defer l.Down(ctx)                 // idempotent; leaves no process, netns, link, mount or file
//	l.Kubeconfig(); l.RESTConfig(); l.InventoryPath(); l.Nodes()
//
// Tests use labtest.Start(t, cfg); the CLI is hack/lab (up, status, down, bench); e2e suites use
// the e2eprovider package.
//
// # What runs
//
// The control plane is real: etcd, kube-apiserver (admission plugins and RBAC on, anonymous access
// off, service CIDR 10.43.0.0/16), kube-controller-manager and kube-scheduler, run by kwokctl's
// binary runtime from the binaries hack/tools.sh builds (FindTools checks them and their versions,
// and never downloads anything). The nodes are kwok's fake nodes, named and labelled the way K3s
// registers nodes, each with pod CIDR 10.42.<i>.0/24 and an InternalIP. With node hosts (the
// default; needs root) each node has a host from internal/testbed/nethost — a network namespace with its
// own sshd at the node's InternalIP — holding the files, links, routes, ipsets and iptables chains
// a real Calico VXLAN node leaves behind, and the Ansible inventory reaches them over SSH.
//
// Every control-plane component listens on loopback, except the API server when there are node
// hosts: it then listens on the node-host bridge's gateway address only (reachable from this
// machine and the hosts, not from the network), and the kubeconfig and the servers'
// /etc/rancher/k3s/k3s.yaml point there. kwokctl hard-codes 127.0.0.1 for its own checks, so the
// cluster is created on loopback and then moved (rebind.go).
//
// Calico is installed from the real manifests of the snapshot the Go module proxy serves
// (calico.yaml, or tigera-operator.yaml + custom-resources.yaml), set up for K3s (pool
// 10.42.0.0/16, VXLAN, no IPIP). No Calico process runs, so what calico-node, kube-controllers and
// the operator would write (IP pool, block affinities, the operator's calico-system objects with
// their owners and finalizers, status) is written by the lab. Workloads modelled on the migration article's
// article's ML platform (manifests/) are deployed on top.
//
// Pod and Service IPs of the lab are fake: nothing may ever connect to them. Only loopback and the
// node hosts' addresses (198.18.0.0/15) carry traffic.
//
// # Leaving nothing behind
//
// Up writes a state file in the lab's work dir before it creates anything and updates it after each
// step; on failure it removes what it made. Down, DownDir, DownByName and Sweep(…, Stale) work from
// the state file alone, so they also clean up after a process that crashed or was killed in Up:
// control-plane processes are found by the work dir in their command lines, node hosts by the
// harness' lease (their sshd died with their owner).
package lab
