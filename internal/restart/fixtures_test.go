package restart

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Addresses in the fixtures: the old CNI's pods are in 10.42/16, Cilium's in 10.245/16.
const (
	oldIP    = "10.42.0.9"
	newIP    = "10.245.0.9"
	newCIDR  = "10.245.0.0/16"
	created0 = "2026-01-01T00:00:00Z" // when every fixture pod was created unless said otherwise
)

// fake is a cluster made of client-go fakes: objects, plus metadata-only ReplicaSets/CiliumEndpoints.
type fake struct {
	kube *kubefake.Clientset
	md   *metadatafake.FakeMetadataClient
	dyn  *dynamicfake.FakeDynamicClient
}

func (f *fake) clients() Clients { return Clients{Kube: f.kube, Dynamic: f.dyn, Metadata: f.md} }

// newFake builds the fake cluster. Objects of type *metav1.PartialObjectMetadata go to the
// metadata client (ReplicaSets, CiliumEndpoints); everything else to the typed clientset. withCilium
// makes discovery serve cilium.io/v2.
func newFake(t *testing.T, withCilium bool, objs ...runtime.Object) *fake {
	t.Helper()
	var kubeObjs, mdObjs []runtime.Object
	for _, o := range objs {
		if _, ok := o.(*metav1.PartialObjectMetadata); ok {
			mdObjs = append(mdObjs, o)
		} else {
			kubeObjs = append(kubeObjs, o)
		}
	}
	scheme := metadatafake.NewTestScheme()
	for _, gvk := range []schema.GroupVersionKind{
		{Group: "apps", Version: "v1", Kind: "ReplicaSet"}, {Group: "cilium.io", Version: "v2", Kind: "CiliumEndpoint"},
	} {
		scheme.AddKnownTypeWithName(gvk, &metav1.PartialObjectMetadata{})
		scheme.AddKnownTypeWithName(gvk.GroupVersion().WithKind(gvk.Kind+"List"), &metav1.PartialObjectMetadataList{})
	}
	f := &fake{
		kube: kubefake.NewClientset(kubeObjs...),
		md:   metadatafake.NewSimpleMetadataClient(scheme, mdObjs...),
		dyn:  dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()),
	}
	if withCilium {
		f.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{{
			GroupVersion: "cilium.io/v2",
			APIResources: []metav1.APIResource{{Name: "ciliumendpoints", Namespaced: true}, {Name: "ciliumnodes"}},
		}}
	}
	return f
}

func open(t *testing.T, f *fake, p Parameters) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, f.clients(), p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func params(mod func(*Parameters)) Parameters {
	p := Defaults()
	p.TargetCIDRs = []string{newCIDR}
	p.Timeout, p.TotalTimeout = 5*time.Second, 30*time.Second
	if mod != nil {
		mod(&p)
	}
	return p
}

func ts(s string) metav1.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return metav1.NewTime(t)
}

func uid(kind, ns, name string) types.UID { return types.UID(kind + "/" + ns + "/" + name) }

func meta(kind, ns, name string, labels map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid(kind, ns, name), Labels: labels,
		Generation: 1, CreationTimestamp: ts(created0)}
}

func template(labels map[string]string, hostNetwork bool) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{HostNetwork: hostNetwork}}
}

func ptr[T any](v T) *T { return &v }

// deployment returns a complete (rolled out) Deployment, its ReplicaSet and its pods with the IPs given.
func deployment(ns, name string, labels map[string]string, ips ...string) []runtime.Object {
	d := &appsv1.Deployment{ObjectMeta: meta(KindDeployment, ns, name, labels), Spec: appsv1.DeploymentSpec{
		Replicas: ptr(int32(len(ips))), Template: template(labels, false)}}
	n := int32(len(ips))
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
	rsName := name + "-5d9c7"
	rs := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rsName, UID: uid("ReplicaSet", ns, rsName), OwnerReferences: ownerRef(KindDeployment, ns, name)},
	}
	objs := []runtime.Object{d, rs}
	for i, ip := range ips {
		objs = append(objs, pod(ns, fmt.Sprintf("%s-%d", rsName, i), ip, ownerRef("ReplicaSet", ns, rsName)))
	}
	return objs
}

func statefulSet(ns, name string, strategy appsv1.StatefulSetUpdateStrategyType, ips ...string) []runtime.Object {
	n := int32(len(ips))
	s := &appsv1.StatefulSet{ObjectMeta: meta(KindStatefulSet, ns, name, nil), Spec: appsv1.StatefulSetSpec{
		Replicas: &n, Template: template(nil, false), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: strategy}}}
	s.Status = appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: n, ReadyReplicas: n, UpdatedReplicas: n,
		CurrentReplicas: n, CurrentRevision: "r1", UpdateRevision: "r1"}
	objs := []runtime.Object{s}
	for i, ip := range ips {
		objs = append(objs, pod(ns, fmt.Sprintf("%s-%d", name, i), ip, ownerRef(KindStatefulSet, ns, name)))
	}
	return objs
}

func daemonSet(ns, name string, hostNetwork bool, ips ...string) []runtime.Object {
	n := int32(len(ips))
	d := &appsv1.DaemonSet{ObjectMeta: meta(KindDaemonSet, ns, name, nil), Spec: appsv1.DaemonSetSpec{
		Template: template(nil, hostNetwork), UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}}}
	d.Status = appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: n, UpdatedNumberScheduled: n, NumberAvailable: n, NumberReady: n}
	objs := []runtime.Object{d}
	for i, ip := range ips {
		p := pod(ns, fmt.Sprintf("%s-%d", name, i), ip, ownerRef(KindDaemonSet, ns, name))
		p.Spec.HostNetwork = hostNetwork
		objs = append(objs, p)
	}
	return objs
}

func ownerRef(kind, ns, name string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid(kind, ns, name), Controller: ptr(true)}}
}

// pod returns a running, ready pod.
func pod(ns, name, ip string, owners []metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("Pod", ns, name), OwnerReferences: owners, CreationTimestamp: ts(created0)},
		Spec:       corev1.PodSpec{NodeName: "agent-1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// endpoint is a CiliumEndpoint for a pod (metadata only), owned by it.
func endpoint(p *corev1.Pod) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "cilium.io/v2", Kind: "CiliumEndpoint"},
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: types.UID("cep-" + p.UID),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: p.Name, UID: p.UID}}},
	}
}

func dnsLabels() map[string]string { return map[string]string{"k8s-app": "kube-dns"} }

// recorder collects progress events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) record(e Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) sequence() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Phase+" "+e.Name)
	}
	return out
}

var _ = defaults.RestartedAtAnnot
