package health

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// checkCoreDNS passes when a CoreDNS Deployment has an available replica and the kube-dns Service
// has at least one ready endpoint (from its EndpointSlices).
func checkCoreDNS(ctx context.Context, kube kubernetes.Interface) result.Entry {
	e := entry(CheckCoreDNS)
	ns := defaults.CoreDNSNamespace
	deploys, err := coreDNSDeployments(ctx, kube)
	if err != nil {
		return failed(e, err.Error())
	}
	var problems, seen []string
	if len(deploys) == 0 {
		problems = append(problems, fmt.Sprintf("no CoreDNS Deployment in %s (label %s or name %s)",
			ns, defaults.CoreDNSSelector, defaults.CoreDNSDeployment))
	}
	for _, d := range deploys {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		seen = append(seen, fmt.Sprintf("Deployment %s: %d/%d available", d.Name, d.Status.AvailableReplicas, want))
		if d.Status.AvailableReplicas == 0 {
			problems = append(problems, fmt.Sprintf("Deployment %s/%s has no available replica (%d desired)", ns, d.Name, want))
		}
	}
	_, err = kube.CoreV1().Services(ns).Get(ctx, defaults.CoreDNSService, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		problems = append(problems, fmt.Sprintf("Service %s/%s does not exist", ns, defaults.CoreDNSService))
	case err != nil:
		return failed(e, fmt.Sprintf("get Service %s/%s: %v", ns, defaults.CoreDNSService, err))
	default:
		ready, err := readyEndpoints(ctx, kube, ns, defaults.CoreDNSService)
		if err != nil {
			return failed(e, err.Error())
		}
		seen = append(seen, fmt.Sprintf("Service %s: %d ready endpoints", defaults.CoreDNSService, len(ready)))
		if len(ready) == 0 {
			problems = append(problems, fmt.Sprintf("Service %s/%s has no ready endpoints", ns, defaults.CoreDNSService))
		}
		e.Details = ready
	}
	e.Observed = strings.Join(seen, "; ")
	if len(problems) > 0 {
		return failed(e, strings.Join(problems, "; "))
	}
	return e
}

func coreDNSDeployments(ctx context.Context, kube kubernetes.Interface) ([]appsv1.Deployment, error) {
	ns := defaults.CoreDNSNamespace
	list, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: defaults.CoreDNSSelector})
	if err != nil {
		return nil, fmt.Errorf("list CoreDNS Deployments in %s: %w", ns, err)
	}
	if len(list.Items) > 0 {
		return list.Items, nil
	}
	d, err := kube.AppsV1().Deployments(ns).Get(ctx, defaults.CoreDNSDeployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Deployment %s/%s: %w", ns, defaults.CoreDNSDeployment, err)
	}
	return []appsv1.Deployment{*d}, nil
}

// readyEndpoints returns the addresses of a Service's ready endpoints.
func readyEndpoints(ctx context.Context, kube kubernetes.Interface, ns, svc string) ([]string, error) {
	slices, err := kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, fmt.Errorf("list EndpointSlices of %s/%s: %w", ns, svc, err)
	}
	return sliceAddresses(slices.Items), nil
}

// sliceAddresses collects ready endpoint addresses; a nil Ready condition means ready (the API's
// documented reading of "unknown").
func sliceAddresses(slices []discoveryv1.EndpointSlice) []string {
	var out []string
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			out = append(out, strings.Join(ep.Addresses, ","))
		}
	}
	return out
}
