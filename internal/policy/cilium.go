package policy

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Cilium policy kinds written, in API version cilium.io/v2.
const (
	CiliumAPIVersion        = "cilium.io/v2"
	KindCiliumNetworkPolicy = "CiliumNetworkPolicy"
	KindCiliumClusterwide   = "CiliumClusterwideNetworkPolicy"
)

// Labels of the Cilium endpoint identity that Calico's special labels translate to.
const (
	ciliumNamespaceKey      = "k8s:io.kubernetes.pod.namespace"
	ciliumServiceAccountKey = "k8s:io.cilium.k8s.policy.serviceaccount"
	ciliumNamespaceLabels   = "k8s:io.cilium.k8s.namespace.labels."
)

// Cilium entities used.
const (
	entityAll     = "all"
	entityCluster = "cluster"
)

// CiliumPolicy is a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy: one rule in Spec, or
// several (one per alternative of an || in the Calico selector) in Specs.
type CiliumPolicy struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   ObjectMeta   `json:"metadata"`
	Spec       *CiliumRule  `json:"spec,omitempty"`
	Specs      []CiliumRule `json:"specs,omitempty"`
}

// ObjectMeta is the metadata written.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// CiliumRule is Cilium's api.Rule, reduced to what the translation emits.
type CiliumRule struct {
	Description       string               `json:"description,omitempty"`
	EndpointSelector  metav1.LabelSelector `json:"endpointSelector"`
	Ingress           []IngressRule        `json:"ingress,omitempty"`
	IngressDeny       []IngressRule        `json:"ingressDeny,omitempty"`
	Egress            []EgressRule         `json:"egress,omitempty"`
	EgressDeny        []EgressRule         `json:"egressDeny,omitempty"`
	EnableDefaultDeny DefaultDeny          `json:"enableDefaultDeny"`
}

// DefaultDeny is Cilium's enableDefaultDeny: whether the policy puts its endpoints into
// default-deny for each direction (Calico's policy types).
type DefaultDeny struct {
	Ingress bool `json:"ingress"`
	Egress  bool `json:"egress"`
}

// IngressRule is an ingress or ingressDeny rule. Cilium accepts one kind of peer per rule.
type IngressRule struct {
	FromEndpoints []metav1.LabelSelector `json:"fromEndpoints,omitempty"`
	FromEntities  []string               `json:"fromEntities,omitempty"`
	FromCIDR      []string               `json:"fromCIDR,omitempty"`
	FromCIDRSet   []CIDRRule             `json:"fromCIDRSet,omitempty"`
	L4
}

// EgressRule is an egress or egressDeny rule.
type EgressRule struct {
	ToEndpoints []metav1.LabelSelector `json:"toEndpoints,omitempty"`
	ToEntities  []string               `json:"toEntities,omitempty"`
	ToCIDR      []string               `json:"toCIDR,omitempty"`
	ToCIDRSet   []CIDRRule             `json:"toCIDRSet,omitempty"`
	L4
}

// L4 restricts a rule to ports or ICMP types (never both: Cilium rejects the combination).
type L4 struct {
	ToPorts []PortRule `json:"toPorts,omitempty"`
	ICMPs   []ICMPRule `json:"icmps,omitempty"`
}

// CIDRRule is a CIDR with excepted sub-ranges.
type CIDRRule struct {
	CIDR   string   `json:"cidr"`
	Except []string `json:"except,omitempty"`
}

// PortRule lists ports.
type PortRule struct {
	Ports []PortProtocol `json:"ports"`
}

// PortProtocol is a port (number, "0" for any, or a name), an optional range end and a protocol.
type PortProtocol struct {
	Port     string `json:"port"`
	EndPort  int32  `json:"endPort,omitempty"`
	Protocol string `json:"protocol"`
}

// ICMPRule lists ICMP types.
type ICMPRule struct {
	Fields []ICMPField `json:"fields"`
}

// ICMPField is an ICMP type of one address family.
type ICMPField struct {
	Family string `json:"family"`
	Type   int    `json:"type"`
}

// peers is the translated peer side of one Calico rule: one Cilium rule per non-empty kind.
type peers struct {
	endpoints []metav1.LabelSelector
	entities  []string
	cidrs     []string
	cidrSet   []CIDRRule
}

func (p peers) empty() bool {
	return len(p.endpoints)+len(p.entities)+len(p.cidrs)+len(p.cidrSet) == 0
}

// ingressRules gives one rule per kind of peer, each with the same L4 part; no peer at all means
// the rule does not restrict the peer (Cilium then allows every peer on the L4 part).
func (p peers) ingressRules(l4 L4) []IngressRule {
	var out []IngressRule
	if len(p.endpoints) > 0 {
		out = append(out, IngressRule{FromEndpoints: p.endpoints, L4: l4})
	}
	if len(p.entities) > 0 {
		out = append(out, IngressRule{FromEntities: p.entities, L4: l4})
	}
	if len(p.cidrs) > 0 {
		out = append(out, IngressRule{FromCIDR: p.cidrs, L4: l4})
	}
	if len(p.cidrSet) > 0 {
		out = append(out, IngressRule{FromCIDRSet: p.cidrSet, L4: l4})
	}
	return out
}

func (p peers) egressRules(l4 L4) []EgressRule {
	var out []EgressRule
	if len(p.endpoints) > 0 {
		out = append(out, EgressRule{ToEndpoints: p.endpoints, L4: l4})
	}
	if len(p.entities) > 0 {
		out = append(out, EgressRule{ToEntities: p.entities, L4: l4})
	}
	if len(p.cidrs) > 0 {
		out = append(out, EgressRule{ToCIDR: p.cidrs, L4: l4})
	}
	if len(p.cidrSet) > 0 {
		out = append(out, EgressRule{ToCIDRSet: p.cidrSet, L4: l4})
	}
	return out
}
