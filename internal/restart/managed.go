package restart

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// podState says whether a pod is on the target CNI.
type podState int

const (
	stateUnmanaged podState = iota
	stateManaged
	stateNoAddress // no IP yet: not on the old CNI either
)

// managedCheck decides "managed by the target CNI" as `cilium status` does: the pod has a
// CiliumEndpoint, or its IP lies in a CIDR Cilium allocates from.
type managedCheck struct {
	cidrs     []netip.Prefix
	endpoints bool // CiliumEndpoints are watched
	st        *store
}

func (m *managedCheck) state(p *corev1.Pod) podState {
	var ips []netip.Addr
	for _, s := range append([]corev1.PodIP{{IP: p.Status.PodIP}}, p.Status.PodIPs...) {
		if a, err := netip.ParseAddr(s.IP); err == nil {
			ips = append(ips, a)
		}
	}
	if len(ips) == 0 {
		return stateNoAddress
	}
	if m.endpoints && m.hasEndpoint(p) {
		return stateManaged
	}
	for _, ip := range ips {
		for _, c := range m.cidrs {
			if c.Contains(ip) {
				return stateManaged
			}
		}
	}
	return stateUnmanaged
}

// hasEndpoint: a CiliumEndpoint named like the pod, owned by this incarnation of it when it says so.
func (m *managedCheck) hasEndpoint(p *corev1.Pod) bool {
	obj, ok := m.st.get(resEndpoints, p.Namespace, p.Name).(metav1.Object)
	if !ok {
		return false
	}
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Kind == "Pod" {
			return ref.UID == p.UID
		}
	}
	return true
}

// describe says how "managed" is decided, for the report.
func (m *managedCheck) describe(source string) string {
	var parts []string
	if m.endpoints {
		parts = append(parts, "a CiliumEndpoint (cilium.io/v2) exists for the pod")
	}
	if len(m.cidrs) > 0 {
		parts = append(parts, fmt.Sprintf("the pod IP is in %s (%s)", strings.Join(prefixStrings(m.cidrs), ", "), source))
	}
	return strings.Join(parts, ", or ")
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// target is what discovery found out about the target CNI.
type target struct {
	cidrs      []netip.Prefix
	source     string // where the CIDRs came from
	endpoints  bool   // the CiliumEndpoint CRD is served
	ciliumNode bool   // the CiliumNode CRD is served
}

// discoverTarget finds how to tell managed pods: the CiliumEndpoint CRD, and the given CIDRs or else
// Cilium's cluster-pool CIDRs (cilium-config, then CiliumNodes).
func discoverTarget(ctx context.Context, cl Clients, c *config) (*target, error) {
	t := &target{cidrs: c.cidrs, source: "target_cidrs"}
	res, err := cl.Kube.Discovery().ServerResourcesForGroupVersion(gvrCiliumEndpoints.GroupVersion().String())
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("discover Cilium's API (%s): %w", gvrCiliumEndpoints.GroupVersion(), err)
	default:
		for _, r := range res.APIResources {
			t.endpoints = t.endpoints || r.Name == gvrCiliumEndpoints.Resource
			t.ciliumNode = t.ciliumNode || r.Name == gvrCiliumNodes.Resource
		}
	}
	if len(t.cidrs) == 0 {
		if err := t.discoverCIDRs(ctx, cl); err != nil {
			return nil, err
		}
	}
	if !t.endpoints && len(t.cidrs) == 0 {
		return nil, fmt.Errorf("cannot tell which pods %s manages: the cluster serves no CiliumEndpoints (%s) "+
			"and no pod CIDR was given (target_cidrs) or found (%s/%s key %s, CiliumNodes); "+
			"give target_cidrs, or use strategy %s or %s", c.TargetCNI, gvrCiliumEndpoints.GroupVersion(),
			defaults.CiliumNamespace, defaults.CiliumConfigMap, defaults.CiliumClusterPoolKey, StrategyAll, StrategyCreatedBefore)
	}
	return t, nil
}

func (t *target) discoverCIDRs(ctx context.Context, cl Clients) error {
	cm, err := cl.Kube.CoreV1().ConfigMaps(defaults.CiliumNamespace).Get(ctx, defaults.CiliumConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("read %s/%s: %w", defaults.CiliumNamespace, defaults.CiliumConfigMap, err)
	default:
		for _, key := range []string{defaults.CiliumClusterPoolKey, defaults.CiliumClusterPoolKey6} {
			t.addCIDRs(cm.Data[key])
		}
		t.source = fmt.Sprintf("%s/%s", defaults.CiliumNamespace, defaults.CiliumConfigMap)
	}
	if len(t.cidrs) > 0 || !t.ciliumNode || cl.Dynamic == nil {
		return nil
	}
	nodes, err := cl.Dynamic.Resource(gvrCiliumNodes).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list CiliumNodes for their pod CIDRs: %w", err)
	}
	for _, n := range nodes.Items {
		cidrs, _, _ := unstructured.NestedStringSlice(n.Object, "spec", "ipam", "podCIDRs")
		t.addCIDRs(strings.Join(cidrs, " "))
	}
	t.source = "CiliumNode spec.ipam.podCIDRs"
	return nil
}

func (t *target) addCIDRs(s string) {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' }) {
		if p, err := netip.ParsePrefix(f); err == nil && !slices.Contains(t.cidrs, p.Masked()) {
			t.cidrs = append(t.cidrs, p.Masked())
		}
	}
}
