package migration

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// clients for one cluster, from the e2e-framework config's REST config.
type clients struct {
	kube kubernetes.Interface
	dyn  dynamic.Interface
	disc discovery.DiscoveryInterface
}

func newClients(t *testing.T, rc *rest.Config) clients {
	t.Helper()
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatalf("kubernetes client: %v", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatalf("dynamic client: %v", err)
	}
	return clients{kube: kube, dyn: dyn, disc: kube.Discovery()}
}

// podInfo is what the suite remembers of a pod from before the migration.
type podInfo struct {
	UID         string
	HostNetwork bool
	Bare        bool // no controller owns it
}

// snapshot is the cluster's state before the migration: what the claims are compared with.
type snapshot struct {
	pods            map[string]podInfo // namespace/name → info (running pods only)
	networkPolicies map[string]string  // namespace/name → spec, as a string
	calicoObjects   map[string]int     // resource (plural.group) → count
	calicoPolicies  []string           // namespace/name of Calico NetworkPolicies and GlobalNetworkPolicies
}

func takeSnapshot(ctx context.Context, t *testing.T, c clients) snapshot {
	t.Helper()
	s := snapshot{pods: map[string]podInfo{}, networkPolicies: map[string]string{}}
	pods, err := c.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		s.pods[p.Namespace+"/"+p.Name] = podInfo{UID: string(p.UID), HostNetwork: p.Spec.HostNetwork,
			Bare: metav1.GetControllerOf(&p) == nil}
	}
	nps, err := c.kube.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list NetworkPolicies: %v", err)
	}
	for _, np := range nps.Items {
		s.networkPolicies[np.Namespace+"/"+np.Name] = specString(np.Spec)
	}
	s.calicoObjects = calicoObjectCounts(ctx, t, c)
	for _, res := range []string{"networkpolicies", "globalnetworkpolicies"} {
		list, err := c.dyn.Resource(calicoGVR(res)).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list Calico %s: %v", res, err)
		}
		for _, o := range list.Items {
			s.calicoPolicies = append(s.calicoPolicies, strings.TrimPrefix(o.GetNamespace()+"/"+o.GetName(), "/"))
		}
	}
	sort.Strings(s.calicoPolicies)
	return s
}

func calicoGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: resource}
}

// calicoObjectCounts counts the objects of every Calico kind the API serves (none when Calico's
// CRDs are gone).
func calicoObjectCounts(ctx context.Context, t *testing.T, c clients) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, group := range []string{"crd.projectcalico.org/v1", "operator.tigera.io/v1"} {
		list, err := c.disc.ServerResourcesForGroupVersion(group)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatalf("discover %s: %v", group, err)
		}
		gv, _ := schema.ParseGroupVersion(group)
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			objs, err := c.dyn.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list %s.%s: %v", r.Name, gv.Group, err)
			}
			out[r.Name+"."+gv.Group] = len(objs.Items)
		}
	}
	return out
}

// specString renders an object's spec for comparison.
func specString(spec any) string {
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Sprintf("unencodable: %v", err)
	}
	return string(b)
}
