// Package policy translates Calico's own network policies (projectcalico.org/v3, or the
// crd.projectcalico.org/v1 objects they are stored as) into Cilium policies (cilium.io/v2), and
// reports everything it cannot translate faithfully instead of approximating it.
//
// Kinds and names (see CiliumName):
//
//	NetworkPolicy <ns>/<name>   → CiliumNetworkPolicy <ns>/calico-<name>
//	GlobalNetworkPolicy <name>  → CiliumClusterwideNetworkPolicy calico-global-<name>
//
// Every object carries the label app.kubernetes.io/managed-by=cnimigrate and the annotation
// cnimigrate.io/calico-policy=<Kind>/<namespace>/<name>. A policy whose selector has several
// alternatives (||) becomes one object with one rule per alternative in `specs`.
//
// Selectors (package selector) become label selectors. Calico's special labels map to Cilium's
// identity labels:
//
//	projectcalico.org/namespace (pod)      → k8s:io.kubernetes.pod.namespace
//	projectcalico.org/name (namespace)     → k8s:io.kubernetes.pod.namespace
//	projectcalico.org/serviceaccount (pod) → k8s:io.cilium.k8s.policy.serviceaccount
//	pcns.<k> (pod), <k> (namespace)        → k8s:io.cilium.k8s.namespace.labels.<k>
//	<k> (pod)                              → <k>
//
// Pod labels that Cilium's default label filter leaves out of identities (pod-template-hash,
// statefulset.kubernetes.io/pod-name, kubernetes.io/*, ...) cannot be selected and are reported.
// Every endpoint selector states its namespace scope explicitly: the policy's own namespace for a
// NetworkPolicy (subject and peers without namespaceSelector), Exists otherwise (pods only).
//
// Semantics kept:
//   - types → enableDefaultDeny per direction; a governed direction with no rule gets an empty
//     rule (`ingress: [{}]`), which selects nothing and turns default deny on.
//   - Allow → ingress/egress, Deny → ingressDeny/egressDeny; protocol TCP/UDP/SCTP (names or
//     numbers) and destination ports (numbers, ranges a:b → port/endPort, named ports) → toPorts;
//     ICMP/ICMPv6 with a type → icmps.
//   - A peer with no criteria → entity all. Peer selector/namespaceSelector/serviceAccounts.names
//     → fromEndpoints/toEndpoints, one selector per alternative.
//   - nets/notNets: Cilium CIDR rules never match cluster endpoints, so the addresses are compared
//     with the cluster's ranges (Options.ClusterCIDRs): disjoint → fromCIDR/fromCIDRSet (notNets
//     inside a net become `except`); covering every cluster range → entity cluster plus the CIDR
//     rules; partly overlapping → untranslatable. With a selector, nets covering the cluster add
//     nothing and disjoint ones make the rule never match (dropped with a note).
//
// Reported as untranslatable (policy, rule, field, construct as written, reason): contains /
// starts with / ends with / global(), Pass and Log, tiers, serviceAccountSelector and
// serviceAccounts.selector, http, services, notSelector, notPorts, source ports, notICMP,
// notProtocol (unless implied by protocol), ICMP without a type or with a code, other protocols,
// ipVersion on non-CIDR peers, match criteria on the policy's own side of a rule, doNotTrack,
// preDNAT, applyOnForward, selectors that also match Calico network sets, and unknown fields.
// Untranslatable rules are left out of their policy; a policy whose endpoints cannot be expressed
// (selector, serviceAccountSelector, tier, doNotTrack, preDNAT) is not written at all.
//
// Order (checkOrder): Calico's first matching rule wins, Cilium applies every deny first. A Deny
// that an Allow evaluated before it by Calico can pre-empt is left out: exactly (noted) when no
// Allow evaluated after it can match its traffic, else reported. Kubernetes NetworkPolicies take
// part at order 1000 when known (Input.K8sPolicyNamespaces).
//
// Output is deterministic: objects sorted by kind, namespace, name; findings sorted.
package policy
