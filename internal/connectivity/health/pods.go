package health

import (
	"context"
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

var (
	ciliumEndpointsGVR = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumendpoints"}
	calicoIPPoolsGVR   = schema.GroupVersionResource{Group: defaults.CalicoCRDGroup, Version: "v1", Resource: "ippools"}
)

// attribution says which CNI gave a pod its network.
type attribution struct {
	endpoints   map[string]bool // namespace/name of pods with a CiliumEndpoint
	ciliumCIDRs []*net.IPNet    // Cilium's cluster-pool CIDRs (cilium-config)
	calicoCIDRs []*net.IPNet    // Calico IP pools
}

// checkPods counts "N/M pods managed by Cilium" the way cilium status does: M is every running
// pod that is not on the host network; a pod is Cilium's when it has a CiliumEndpoint or its IP
// lies in Cilium's cluster-pool CIDR. The rest is attributed to Calico by its IP pools. When
// Cilium is the only CNI, a pod it does not manage is a failure (it must be restarted).
func checkPods(ctx context.Context, cfg Config, agents agentSet, pods []corev1.Pod, podsErr error) (result.Entry, *result.PodCount) {
	e := entry(CheckPods)
	if podsErr != nil {
		return failed(e, podsErr.Error()), nil
	}
	attr, err := loadAttribution(ctx, cfg)
	if err != nil {
		return failed(e, err.Error()), nil
	}
	count := &result.PodCount{}
	var unmanaged []string
	for i := range pods {
		p := &pods[i]
		if p.Spec.HostNetwork || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			continue
		}
		count.Total++
		ip := net.ParseIP(p.Status.PodIP)
		switch {
		case attr.endpoints[p.Namespace+"/"+p.Name] || inAny(ip, attr.ciliumCIDRs):
			count.Cilium++
		case inAny(ip, attr.calicoCIDRs):
			count.Calico++
			unmanaged = append(unmanaged, fmt.Sprintf("%s/%s (%s)", p.Namespace, p.Name, p.Status.PodIP))
		default:
			count.Other++
			unmanaged = append(unmanaged, fmt.Sprintf("%s/%s (%s)", p.Namespace, p.Name, p.Status.PodIP))
		}
	}
	e.Observed = fmt.Sprintf("%d/%d pods managed by Cilium, %d by Calico", count.Cilium, count.Total, count.Calico)
	if count.Other > 0 {
		e.Observed += fmt.Sprintf(", %d by neither (address outside both CNIs' ranges)", count.Other)
	}
	if agents.ciliumOnly() && len(unmanaged) > 0 {
		e.Details = limit(unmanaged, 50)
		return failed(e, fmt.Sprintf("Cilium is the only CNI but %d pods are not managed by it; restart them: %s",
			len(unmanaged), strings.Join(limit(unmanaged, 10), ", "))), count
	}
	return e, count
}

// loadAttribution reads cilium-config, CiliumEndpoints and Calico IP pools. Absent objects and
// CRDs mean "none"; other errors are returned.
func loadAttribution(ctx context.Context, cfg Config) (attribution, error) {
	a := attribution{endpoints: map[string]bool{}}
	cm, err := cfg.Kube.CoreV1().ConfigMaps(defaults.CiliumNamespace).Get(ctx, defaults.CiliumConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return a, fmt.Errorf("read ConfigMap %s/%s: %w", defaults.CiliumNamespace, defaults.CiliumConfigMap, err)
	default:
		a.ciliumCIDRs = parseCIDRs(cm.Data[defaults.CiliumClusterPoolKey] + " " + cm.Data[defaults.CiliumClusterPoolKey6])
	}
	if cfg.Dynamic == nil {
		return a, nil
	}
	eps, err := listIfServed(ctx, cfg.Dynamic, ciliumEndpointsGVR)
	if err != nil {
		return a, err
	}
	for _, ep := range eps {
		a.endpoints[ep.GetNamespace()+"/"+ep.GetName()] = true
	}
	pools, err := listIfServed(ctx, cfg.Dynamic, calicoIPPoolsGVR)
	if err != nil {
		return a, err
	}
	for _, p := range pools {
		if cidr, ok, _ := unstructured.NestedString(p.Object, "spec", "cidr"); ok {
			a.calicoCIDRs = append(a.calicoCIDRs, parseCIDRs(cidr)...)
		}
	}
	return a, nil
}

// listIfServed lists a custom resource across namespaces; a CRD that is not installed yields none.
func listIfServed(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource) ([]unstructured.Unstructured, error) {
	list, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
	}
	return list.Items, nil
}

// parseCIDRs reads a space- or comma-separated CIDR list, ignoring what does not parse.
func parseCIDRs(s string) []*net.IPNet {
	var out []*net.IPNet
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if _, n, err := net.ParseCIDR(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func inAny(ip net.IP, nets []*net.IPNet) bool {
	for _, n := range nets {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}
