package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The Calico API groups and kinds read. crd.projectcalico.org/v1 has the same spec shape as
// projectcalico.org/v3 (it is where the v3 API stores its objects).
const (
	GroupV3      = "projectcalico.org"
	GroupCRD     = "crd.projectcalico.org"
	APIVersionV3 = GroupV3 + "/v3"
	APIVersionV1 = GroupCRD + "/v1"

	KindNetworkPolicy       = "NetworkPolicy"
	KindGlobalNetworkPolicy = "GlobalNetworkPolicy"
	KindNetworkSet          = "NetworkSet"
	KindGlobalNetworkSet    = "GlobalNetworkSet"
)

// IsCalicoAPIVersion reports whether apiVersion is one of the two Calico policy API versions.
func IsCalicoAPIVersion(apiVersion string) bool {
	return apiVersion == APIVersionV3 || apiVersion == APIVersionV1
}

// Policy is a Calico NetworkPolicy or GlobalNetworkPolicy.
type Policy struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`

	// Unknown lists the spec fields this translator does not know (reported, never ignored).
	Unknown []string `json:"-"`
}

// Metadata is the part of an object's metadata the translation uses.
type Metadata struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Spec is the spec of both policy kinds (namespaceSelector, doNotTrack, preDNAT and
// applyOnForward only exist on GlobalNetworkPolicy).
type Spec struct {
	Tier                   string   `json:"tier,omitempty"`
	Order                  *float64 `json:"order,omitempty"`
	Selector               string   `json:"selector,omitempty"`
	NamespaceSelector      string   `json:"namespaceSelector,omitempty"`
	ServiceAccountSelector string   `json:"serviceAccountSelector,omitempty"`
	Types                  []string `json:"types,omitempty"`
	Ingress                []Rule   `json:"ingress,omitempty"`
	Egress                 []Rule   `json:"egress,omitempty"`
	DoNotTrack             bool     `json:"doNotTrack,omitempty"`
	PreDNAT                bool     `json:"preDNAT,omitempty"`
	ApplyOnForward         bool     `json:"applyOnForward,omitempty"`
	PerformanceHints       []string `json:"performanceHints,omitempty"`
}

// Rule is one ingress or egress rule.
type Rule struct {
	Action      string        `json:"action"`
	IPVersion   *int          `json:"ipVersion,omitempty"`
	Protocol    *Protocol     `json:"protocol,omitempty"`
	NotProtocol *Protocol     `json:"notProtocol,omitempty"`
	ICMP        *ICMPFields   `json:"icmp,omitempty"`
	NotICMP     *ICMPFields   `json:"notICMP,omitempty"`
	Source      EntityRule    `json:"source,omitempty"`
	Destination EntityRule    `json:"destination,omitempty"`
	HTTP        any           `json:"http,omitempty"`
	Metadata    *RuleMetadata `json:"metadata,omitempty"`
}

// RuleMetadata carries annotations; it has no effect on enforcement.
type RuleMetadata struct {
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ICMPFields matches an ICMP type and code.
type ICMPFields struct {
	Type *int `json:"type,omitempty"`
	Code *int `json:"code,omitempty"`
}

// EntityRule is the source or destination of a rule.
type EntityRule struct {
	Nets              []string             `json:"nets,omitempty"`
	Selector          string               `json:"selector,omitempty"`
	NamespaceSelector string               `json:"namespaceSelector,omitempty"`
	Services          any                  `json:"services,omitempty"`
	Ports             []Port               `json:"ports,omitempty"`
	NotNets           []string             `json:"notNets,omitempty"`
	NotSelector       string               `json:"notSelector,omitempty"`
	NotPorts          []Port               `json:"notPorts,omitempty"`
	ServiceAccounts   *ServiceAccountMatch `json:"serviceAccounts,omitempty"`
}

// ServiceAccountMatch matches pods by service-account names and/or service-account labels.
type ServiceAccountMatch struct {
	Names    []string `json:"names,omitempty"`
	Selector string   `json:"selector,omitempty"`
}

// Port is a port number, a range "a:b" or a named port, as written (YAML int or string).
type Port string

// UnmarshalJSON accepts an integer or a string.
func (p *Port) UnmarshalJSON(b []byte) error {
	s, err := intOrString(b)
	*p = Port(s)
	return err
}

// Protocol is a protocol name or number, as written (YAML int or string).
type Protocol string

// UnmarshalJSON accepts an integer or a string.
func (p *Protocol) UnmarshalJSON(b []byte) error {
	s, err := intOrString(b)
	*p = Protocol(s)
	return err
}

func intOrString(b []byte) (string, error) {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return "", fmt.Errorf("want an integer or a string, got %s", b)
	}
	if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
		return "", fmt.Errorf("want an integer or a string, got %s", b)
	}
	return string(n), nil
}

// NetworkSet is a Calico NetworkSet or GlobalNetworkSet: labelled CIDRs that rule selectors match.
type NetworkSet struct {
	Kind      string
	Namespace string
	Name      string
	Labels    map[string]string
	Nets      []string
}

// DecodePolicy decodes a Calico policy from an object (as read from YAML or the API).
func DecodePolicy(obj map[string]any) (Policy, error) {
	var p Policy
	b, err := json.Marshal(obj)
	if err != nil {
		return p, fmt.Errorf("encode object: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("decode %s %s: %w", obj["kind"], objectName(obj), err)
	}
	spec, _ := obj["spec"].(map[string]any)
	p.Unknown = unknownFields(spec, reflect.TypeOf(Spec{}), "spec")
	return p, nil
}

// DecodeNetworkSet decodes a Calico NetworkSet or GlobalNetworkSet.
func DecodeNetworkSet(obj map[string]any) (NetworkSet, error) {
	var o struct {
		Kind     string   `json:"kind"`
		Metadata Metadata `json:"metadata"`
		Spec     struct {
			Nets []string `json:"nets"`
		} `json:"spec"`
	}
	b, err := json.Marshal(obj)
	if err == nil {
		err = json.Unmarshal(b, &o)
	}
	if err != nil {
		return NetworkSet{}, fmt.Errorf("decode %s %s: %w", obj["kind"], objectName(obj), err)
	}
	return NetworkSet{Kind: o.Kind, Namespace: o.Metadata.Namespace, Name: o.Metadata.Name,
		Labels: o.Metadata.Labels, Nets: o.Spec.Nets}, nil
}

func objectName(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	if ns != "" {
		return ns + "/" + name
	}
	return name
}

// unknownFields lists the keys of raw (recursively) that t has no json field for.
func unknownFields(raw any, t reflect.Type, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for k, v := range m {
			ft, known := fields[k]
			if !known {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, unknownFields(v, ft, path+"."+k)...)
		}
	case reflect.Slice:
		list, _ := raw.([]any)
		for i, v := range list {
			out = append(out, unknownFields(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	sort.Strings(out)
	return out
}
