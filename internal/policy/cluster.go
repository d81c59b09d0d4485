package policy

import (
	"context"
	"fmt"
	"net/netip"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// The resources read and written.
var (
	CNPResource  = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}
	CCNPResource = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumclusterwidenetworkpolicies"}

	k8sPolicyResource = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	nodeResource      = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	configMapResource = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// calicoResources are read from projectcalico.org/v3 (Calico's API server) when it is served, else
// from the crd.projectcalico.org/v1 CRDs they are stored in.
var calicoResources = []string{"networkpolicies", "globalnetworkpolicies", "networksets", "globalnetworksets"}

// LoadCluster reads the Calico policies and network sets, and which namespaces hold Kubernetes
// NetworkPolicies.
func LoadCluster(ctx context.Context, dyn dynamic.Interface) (Input, error) {
	c := newCollector()
	group, err := calicoGroup(ctx, dyn)
	if err != nil {
		return Input{}, err
	}
	if group == "" {
		c.in.Notes = append(c.in.Notes, Finding{Field: "apiVersion", Construct: APIVersionV3 + ", " + APIVersionV1,
			Reason: "neither Calico API is served: there are no Calico policies to read"})
	}
	for _, res := range calicoResources {
		if group == "" {
			break
		}
		gvr := schema.GroupVersionResource{Group: group, Version: map[string]string{GroupV3: "v3", GroupCRD: "v1"}[group], Resource: res}
		if err := c.list(ctx, dyn, gvr); err != nil {
			return Input{}, err
		}
	}
	list, err := dyn.Resource(k8sPolicyResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Input{}, fmt.Errorf("list Kubernetes NetworkPolicies: %w", err)
	}
	c.in.K8sPolicyNamespaces = map[string]bool{}
	for _, it := range list.Items {
		c.in.K8sPolicyNamespaces[it.GetNamespace()] = true
	}
	return c.in, nil
}

// calicoGroup is the Calico API group to read: v3 when served, else the CRDs, else "".
func calicoGroup(ctx context.Context, dyn dynamic.Interface) (string, error) {
	for _, g := range []struct{ group, version string }{{GroupV3, "v3"}, {GroupCRD, "v1"}} {
		gvr := schema.GroupVersionResource{Group: g.group, Version: g.version, Resource: "globalnetworkpolicies"}
		_, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
		switch {
		case err == nil:
			return g.group, nil
		case !apierrors.IsNotFound(err):
			return "", fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
		}
	}
	return "", nil
}

func (c *collector) list(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource) error {
	list, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
	}
	for _, it := range list.Items {
		if err := c.add(it.Object, "cluster"); err != nil {
			return err
		}
	}
	return nil
}

// NodeAddresses lists the nodes' internal and external addresses (as /32 or /128): they belong to
// the cluster's ranges, which Cilium CIDR rules never match.
func NodeAddresses(ctx context.Context, dyn dynamic.Interface) ([]netip.Prefix, error) {
	list, err := dyn.Resource(nodeResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var out []netip.Prefix
	for _, n := range list.Items {
		addrs, _, _ := unstructured.NestedSlice(n.Object, "status", "addresses")
		for _, a := range addrs {
			m, _ := a.(map[string]any)
			if t := m["type"]; t != "InternalIP" && t != "ExternalIP" {
				continue
			}
			s, _ := m["address"].(string)
			if ip, err := netip.ParseAddr(s); err == nil {
				out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			}
		}
	}
	return out, nil
}

// Enforcement reads Cilium's policyEnforcementMode ("default", "always", "never"); "" when Cilium's
// ConfigMap is absent, "default" when the key is unset.
func Enforcement(ctx context.Context, dyn dynamic.Interface) (string, error) {
	cm, err := dyn.Resource(configMapResource).Namespace(defaults.CiliumNamespace).Get(ctx, defaults.CiliumConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read ConfigMap %s/%s: %w", defaults.CiliumNamespace, defaults.CiliumConfigMap, err)
	}
	data, _, _ := unstructured.NestedMap(cm.Object, "data")
	if v, ok := data[defaults.CiliumPolicyEnforcementKey].(string); ok && v != "" {
		return v, nil
	}
	return "default", nil
}
