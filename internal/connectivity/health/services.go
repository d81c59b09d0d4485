package health

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// checkServices fails on Services with a selector that have no ready endpoint. Services without a
// selector (endpoints managed by hand) and ExternalName Services have none to check.
func checkServices(ctx context.Context, cfg Config) result.Entry {
	e := entry(CheckServices)
	checked := 0
	var empty []string
	for _, ns := range namespaces(cfg) {
		svcs, err := cfg.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return failed(e, fmt.Sprintf("list Services%s: %v", inNamespace(ns), err))
		}
		slices, err := cfg.Kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName})
		if err != nil {
			return failed(e, fmt.Sprintf("list EndpointSlices%s: %v", inNamespace(ns), err))
		}
		bySvc := map[string][]discoveryv1.EndpointSlice{}
		for _, s := range slices.Items {
			key := s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName]
			bySvc[key] = append(bySvc[key], s)
		}
		for _, svc := range svcs.Items {
			if ours(svc.Namespace) || len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
				continue
			}
			checked++
			key := svc.Namespace + "/" + svc.Name
			if len(sliceAddresses(bySvc[key])) == 0 {
				empty = append(empty, fmt.Sprintf("%s (selector %s)", key, labels.SelectorFromSet(svc.Spec.Selector)))
			}
		}
	}
	sort.Strings(empty)
	e.Observed = fmt.Sprintf("%d/%d Services with a selector have ready endpoints", checked-len(empty), checked)
	if len(empty) > 0 {
		e.Details = empty
		names := make([]string, len(empty))
		for i, s := range empty {
			names[i] = strings.SplitN(s, " ", 2)[0]
		}
		return failed(e, "Services without ready endpoints: "+strings.Join(limit(names, 20), ", "))
	}
	return e
}
