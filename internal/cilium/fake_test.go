package cilium

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeCluster is an env on fakes: client-go's fake clientsets and Helm's in-memory storage with a
// kube client that applies nothing. It proves the module's logic; the lab proves the real thing.
type fakeCluster struct {
	env  *env
	kube *k8sfake.Clientset
	dyn  *dynfake.FakeDynamicClient
}

func newFakeCluster(t *testing.T, typed []runtime.Object, untyped ...*unstructured.Unstructured) *fakeCluster {
	t.Helper()
	listKinds := map[schema.GroupVersionResource]string{
		ipPoolGVR:                           "IPPoolList",
		felixConfigGVR:                      "FelixConfigurationList",
		installationGVR:                     "InstallationList",
		crdGVR:                              "CustomResourceDefinitionList",
		nodeConfigGVR("cilium.io/v2"):       "CiliumNodeConfigList",
		nodeConfigGVR("cilium.io/v2alpha1"): "CiliumNodeConfigList",
	}
	objs := make([]runtime.Object, len(untyped))
	for i, u := range untyped {
		objs[i] = u
	}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	kube := k8sfake.NewClientset(typed...)
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	mem := driver.NewMemory()
	mem.SetNamespace("kube-system")
	cfg.Releases = storage.Init(mem)
	cfg.KubeClient = &kubefake.PrintingKubeClient{Out: io.Discard}
	cfg.Capabilities = chartcommon.DefaultCapabilities.Copy()
	caps := func(context.Context) (capabilities, error) {
		return capabilities{KubeVersion: &chartcommon.DefaultCapabilities.KubeVersion}, nil
	}
	e := &env{kube: kube, dyn: dyn, helm: cfg, host: "https://198.18.0.1:6443", caps: caps, now: time.Now}
	return &fakeCluster{env: e, kube: kube, dyn: dyn}
}

// run normalizes p (local test chart unless set) and runs it against the fake cluster.
func (f *fakeCluster) run(t *testing.T, p Parameters) (*Outcome, error) {
	t.Helper()
	if p.ChartRef == "" {
		p.ChartRef = testChart
	}
	if err := p.Normalize(); err != nil {
		t.Fatal(err)
	}
	return run(context.Background(), p, f.env)
}

func (f *fakeCluster) mustRun(t *testing.T, p Parameters) *Outcome {
	t.Helper()
	out, err := f.run(t, p)
	if err != nil {
		t.Fatalf("run(%s %s): %v", p.State, p.Mode, err)
	}
	return out
}

// revisions lists the release's revisions in Helm's storage.
func (f *fakeCluster) revisions(t *testing.T) []*release.Release {
	t.Helper()
	h, err := f.env.helm.Releases.History("cilium")
	if err != nil {
		return nil
	}
	out := make([]*release.Release, 0, len(h))
	for _, r := range h {
		out = append(out, r.(*release.Release))
	}
	return out
}

// writes lists the mutating requests both fake clients received.
func (f *fakeCluster) writes() []string {
	var out []string
	for _, actions := range [][]k8stesting.Action{f.kube.Actions(), f.dyn.Actions()} {
		for _, a := range actions {
			switch a.GetVerb() {
			case "get", "list", "watch":
			default:
				out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
			}
		}
	}
	return out
}

func node(name, podCIDR string, annotations map[string]string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/os": "linux"}, Annotations: annotations},
		Spec:       corev1.NodeSpec{PodCIDR: podCIDR, PodCIDRs: []string{podCIDR}},
	}
}

func ipPool(name, cidr string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
		"metadata": map[string]any{"name": name}, "spec": map[string]any{"cidr": cidr},
	}}
}

func felixConfig(vxlanPort int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "crd.projectcalico.org/v1", "kind": "FelixConfiguration",
		"metadata": map[string]any{"name": "default"}, "spec": map[string]any{"vxlanPort": vxlanPort},
	}}
}

// ciliumCRD is a registered, established Cilium CRD, as cilium-operator leaves it.
func ciliumCRD(name string, versions ...string) *unstructured.Unstructured {
	var vs []any
	for _, v := range versions {
		vs = append(vs, map[string]any{"name": v, "served": true, "storage": v == versions[0]})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"group": "cilium.io", "versions": vs},
		"status":   map[string]any{"conditions": []any{map[string]any{"type": "Established", "status": "True"}}},
	}}
}

// k3sCluster is a K3s-shaped cluster running Calico (manifest flavour, autodetection already set).
func k3sCluster() []runtime.Object {
	return []runtime.Object{
		node("k3s-server-0", "10.42.0.0/24", nil),
		node("k3s-agent-0", "10.42.1.0/24", nil),
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default"},
			Spec: corev1.ServiceSpec{ClusterIP: "10.43.0.1"}},
	}
}

var getOpts = metav1.GetOptions{}

type runtimeUnstructured = *unstructured.Unstructured
