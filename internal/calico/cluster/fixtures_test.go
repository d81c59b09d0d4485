package cluster

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func obj(apiVersion, kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "uid": "uid-" + name, "resourceVersion": "7",
			"creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": []any{map[string]any{"manager": "kubectl"}}}}}
	if ns != "" {
		u.SetNamespace(ns)
	}
	for k, v := range fields {
		u.Object[k] = v
	}
	return u
}

func crd(plural, group, kind, scope string) *unstructured.Unstructured {
	return obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", plural+"."+group, map[string]any{
		"spec": map[string]any{"group": group, "scope": scope,
			"names":    map[string]any{"plural": plural, "kind": kind},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true}}},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Established", "status": "True"}}},
	})
}

func workload(kind, ns, name, container, image string) *unstructured.Unstructured {
	return obj("apps/v1", kind, ns, name, map[string]any{"spec": map[string]any{"template": map[string]any{
		"spec": map[string]any{"containers": []any{map[string]any{"name": container, "image": image}}}}},
		"status": map[string]any{"numberReady": int64(2)}})
}

// manifestCluster is calico.yaml's objects next to Cilium's and a user's.
func manifestCluster() []*unstructured.Unstructured {
	return []*unstructured.Unstructured{
		obj("v1", "Namespace", "", "kube-system", nil), obj("v1", "Namespace", "", "apps", nil),
		crd("ippools", "crd.projectcalico.org", "IPPool", "Cluster"),
		crd("networkpolicies", "crd.projectcalico.org", "NetworkPolicy", "Namespaced"),
		crd("clusterinformations", "crd.projectcalico.org", "ClusterInformation", "Cluster"),
		crd("ciliumnetworkpolicies", "cilium.io", "CiliumNetworkPolicy", "Namespaced"),
		obj("crd.projectcalico.org/v1", "IPPool", "", "default-ipv4-ippool", map[string]any{"spec": map[string]any{"cidr": "10.42.0.0/16", "blockSize": int64(26)}}),
		obj("crd.projectcalico.org/v1", "NetworkPolicy", "apps", "allow-dns", map[string]any{"spec": map[string]any{"selector": "all()", "order": 100.5}}),
		obj("crd.projectcalico.org/v1", "ClusterInformation", "", "default", map[string]any{"spec": map[string]any{"calicoVersion": "v3.28.5"}}),
		workload("DaemonSet", "kube-system", "calico-node", "calico-node", "docker.io/calico/node:v3.28.5"),
		workload("Deployment", "kube-system", "calico-kube-controllers", "calico-kube-controllers", "docker.io/calico/kube-controllers:v3.28.5"),
		obj("v1", "ConfigMap", "kube-system", "calico-config", map[string]any{"data": map[string]any{"calico_backend": "vxlan"}}),
		obj("v1", "ServiceAccount", "kube-system", "calico-node", nil),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "calico-node", nil),
		obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "calico-node", nil),
		workload("DaemonSet", "kube-system", "cilium", "cilium-agent", "quay.io/cilium/cilium:v1.20.2"),
		obj("v1", "ServiceAccount", "kube-system", "cilium", nil),
		obj("v1", "ConfigMap", "kube-system", "cilium-config", nil),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "cilium", nil),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "cilium-operator", nil),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:calico-like-but-not", nil),
		obj("networking.k8s.io/v1", "NetworkPolicy", "apps", "deny-all", map[string]any{"spec": map[string]any{"podSelector": map[string]any{}}}),
	}
}

// operatorCluster is the tigera-operator flavour: the Installation carries the operator's finalizer.
func operatorCluster() []*unstructured.Unstructured {
	inst := obj("operator.tigera.io/v1", "Installation", "", "default", map[string]any{"spec": map[string]any{"cni": map[string]any{"type": "Calico"}}})
	inst.SetFinalizers([]string{"tigera.io/operator-cleanup"})
	return []*unstructured.Unstructured{
		obj("v1", "Namespace", "", "kube-system", nil), obj("v1", "Namespace", "", "tigera-operator", nil),
		obj("v1", "Namespace", "", "calico-system", nil),
		crd("ippools", "crd.projectcalico.org", "IPPool", "Cluster"),
		crd("installations", "operator.tigera.io", "Installation", "Cluster"),
		crd("apiservers", "operator.tigera.io", "APIServer", "Cluster"),
		obj("crd.projectcalico.org/v1", "IPPool", "", "default-ipv4-ippool", map[string]any{"spec": map[string]any{"cidr": "10.42.0.0/16"}}),
		inst, obj("operator.tigera.io/v1", "APIServer", "", "default", nil),
		workload("Deployment", "tigera-operator", "tigera-operator", "tigera-operator", "quay.io/tigera/operator:v1.34.13"),
		workload("DaemonSet", "calico-system", "calico-node", "calico-node", "docker.io/calico/node:v3.28.5"),
		obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "tigera-operator", nil),
		obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "tigera-operator", nil),
		obj("apiregistration.k8s.io/v1", "APIService", "", "v3.projectcalico.org", nil),
	}
}

var listKinds = func() map[schema.GroupVersionResource]string {
	m := map[schema.GroupVersionResource]string{}
	for gvr, k := range kinds {
		m[gvr] = k + "List"
	}
	for _, c := range []struct{ g, r, k string }{
		{"crd.projectcalico.org", "ippools", "IPPool"}, {"crd.projectcalico.org", "networkpolicies", "NetworkPolicy"},
		{"crd.projectcalico.org", "clusterinformations", "ClusterInformation"}, {"operator.tigera.io", "installations", "Installation"},
		{"operator.tigera.io", "apiservers", "APIServer"}, {"cilium.io", "ciliumnetworkpolicies", "CiliumNetworkPolicy"},
		{"crd.projectcalico.org", "ipamblocks", "IPAMBlock"},
	} {
		m[schema.GroupVersionResource{Group: c.g, Version: "v1", Resource: c.r}] = c.k + "List"
	}
	return m
}()

// newDynamic is a fake API whose deletes honour finalizers: an object with finalizers only gets a
// deletionTimestamp, and goes when a patch strips its last finalizer. An apiserver does the same;
// the fake alone would delete at once.
func newDynamic(objs ...*unstructured.Unstructured) *dynfake.FakeDynamicClient {
	ros := make([]runtime.Object, len(objs))
	for i, o := range objs {
		ros[i] = o.DeepCopy()
	}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, ros...)
	tracker := dyn.Tracker()
	dyn.PrependReactor("delete", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteAction)
		o, err := tracker.Get(d.GetResource(), d.GetNamespace(), d.GetName())
		if err != nil {
			return true, nil, err
		}
		u := o.(*unstructured.Unstructured)
		if len(u.GetFinalizers()) == 0 {
			return true, nil, tracker.Delete(d.GetResource(), d.GetNamespace(), d.GetName())
		}
		now := metav1.Now()
		u.SetDeletionTimestamp(&now)
		return true, nil, tracker.Update(d.GetResource(), u, d.GetNamespace())
	})
	dyn.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.PatchAction)
		if p.GetPatchType() != types.MergePatchType || !strings.Contains(string(p.GetPatch()), `"finalizers":null`) {
			return false, nil, nil
		}
		o, err := tracker.Get(p.GetResource(), p.GetNamespace(), p.GetName())
		if err != nil {
			return true, nil, err
		}
		u := o.(*unstructured.Unstructured)
		u.SetFinalizers(nil)
		if u.GetDeletionTimestamp() != nil {
			return true, u, tracker.Delete(p.GetResource(), p.GetNamespace(), p.GetName())
		}
		return true, u, tracker.Update(p.GetResource(), u, p.GetNamespace())
	})
	return dyn
}

// ciliumKube is a typed fake with the Cilium agent DaemonSet and two nodes; readyOn names the nodes
// whose agent pod is ready.
func ciliumKube(readyOn ...string) *kubefake.Clientset {
	objs := []runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-2"}},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium", Generation: 1},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "cilium"}}},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, UpdatedNumberScheduled: 2,
				NumberReady: int32(len(readyOn)), NumberAvailable: int32(len(readyOn))}},
	}
	for _, n := range readyOn {
		objs = append(objs, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium-" + n, Labels: map[string]string{"k8s-app": "cilium"}},
			Spec:       corev1.PodSpec{NodeName: n},
			Status:     corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		})
	}
	return kubefake.NewClientset(objs...)
}

func mustNot(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
