package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// ciliumModule holds Cilium's CRDs (pkg/k8s/apis/cilium.io/client/crds); the test downloads it
// with `go mod download`: it is not a dependency of this module.
const ciliumModule = "github.com/cilium/cilium@v1.20.2"

const integrationTimeout = 2 * time.Minute

// TestIntegrationTranslationAcceptedByAPIServer runs the translation against the lab's real API
// server: it reads the lab's Calico policies (crd.projectcalico.org/v1), refuses without
// allow_partial, applies what translates, re-runs without changes, and has the API server (with
// Cilium's CRDs and their validation) accept the translation of every corpus policy.
func TestIntegrationTranslationAcceptedByAPIServer(t *testing.T) {
	cfg := lab.Defaults()
	cfg.Hosts = false // the API server is all this test needs
	l := labtest.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	clients, err := k8s.FromConfig(l.RESTConfig(), l.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	installCiliumCRDs(ctx, t, l, clients)

	p := Parameters{Source: SourceCluster, Dest: filepath.Join(t.TempDir(), "cilium.yaml"), Apply: true}
	plan, err := NewPlan(ctx, p, clients.Dynamic)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Refusal() == nil {
		t.Fatalf("the lab's policies hold Log, Pass and starts with: want a refusal, got report %+v", plan.Result.Report)
	}
	if plan.Values(nil).Summary.Policies != 5 {
		t.Errorf("want the lab's 5 Calico policies read, got %+v", plan.Values(nil).Summary)
	}
	constructs := map[string]bool{}
	for _, f := range plan.Result.Report.Untranslatable() {
		constructs[f.Construct] = true
	}
	for _, want := range []string{"Log", "Pass", "model starts with 'fraud-'"} {
		if !constructs[want] {
			t.Errorf("the report misses %q: %v", want, plan.Result.Report.Untranslatable())
		}
	}

	p.AllowPartial = true
	plan, err = NewPlan(ctx, p, clients.Dynamic)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := plan.Execute(ctx, clients.Dynamic)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if len(applied) == 0 || len(applied) != len(plan.Result.Objects) {
		t.Fatalf("applied %d of %d objects", len(applied), len(plan.Result.Objects))
	}
	for _, ch := range applied {
		got, err := clients.Dynamic.Resource(resourceOf(ch.Kind)).Namespace(ch.Namespace).Get(ctx, ch.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s was not stored: %v", ch.ObjectRef, err)
		}
		if !upToDate(ch.desired, got.Object) {
			t.Errorf("%s as stored differs from the translation:\n%v", ch.ObjectRef, got.Object)
		}
	}

	again, err := NewPlan(ctx, p, clients.Dynamic)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() {
		t.Errorf("a second run would change things: dest %v, objects %+v", again.DestChanged, again.Objects)
	}

	applyCorpus(ctx, t, clients)
	rejectsInvalid(ctx, t, clients)
}

// rejectsInvalid shows that the acceptance above means something: the API server validates
// Cilium policies against the CRD schema and refuses one that breaks it.
func rejectsInvalid(ctx context.Context, t *testing.T, clients *k8s.Clients) {
	bad := CiliumPolicy{APIVersion: CiliumAPIVersion, Kind: KindCiliumClusterwide,
		Metadata: ObjectMeta{Name: "calico-global-invalid", Labels: map[string]string{"app.kubernetes.io/managed-by": "cnimigrate"}},
		Spec:     &CiliumRule{Ingress: []IngressRule{{FromEntities: []string{"everything"}}}}}
	changes, err := PlanObjects(ctx, clients.Dynamic, []CiliumPolicy{bad})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyObjects(ctx, clients.Dynamic, changes); err == nil {
		t.Error("the API server accepted an entity outside the CRD's enum: its validation is not in effect")
	}
}

// applyCorpus applies the translation of every corpus file: the API server validates each object
// against Cilium's CRD schema (enums, patterns, required fields).
func applyCorpus(ctx context.Context, t *testing.T, clients *k8s.Clients) {
	files, _ := filepath.Glob("testdata/calico/*.yaml")
	for _, f := range files {
		res := translateFile(t, f)
		for _, o := range res.Objects {
			if o.Metadata.Namespace == "" {
				continue
			}
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.Metadata.Namespace}}
			if _, err := clients.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
		changes, err := PlanObjects(ctx, clients.Dynamic, res.Objects)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := ApplyObjects(ctx, clients.Dynamic, changes); err != nil {
			t.Errorf("%s: the API server rejects the translation: %v", filepath.Base(f), err)
		}
	}
}

// installCiliumCRDs registers Cilium's policy CRDs from the Cilium source and waits until served.
func installCiliumCRDs(ctx context.Context, t *testing.T, l *lab.Lab, clients *k8s.Clients) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", ciliumModule)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", ciliumModule, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: no module dir in %s", ciliumModule, out)
	}
	cs, err := apiextclient.NewForConfig(l.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"} {
		data, err := os.ReadFile(filepath.Join(mod.Dir, "pkg/k8s/apis/cilium.io/client/crds/v2", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatal(err)
		}
		// The lab registers Cilium's CRDs (cilium-operator's part); a lab that did not gets them here.
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create CRD %s: %v", crd.Name, err)
		}
	}
	err = wait.For(ctx, "Cilium policy CRDs served", integrationTimeout, 0, func(ctx context.Context) (bool, string, error) {
		for _, gvr := range []schema.GroupVersionResource{CNPResource, CCNPResource} {
			if _, err := clients.Dynamic.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				return false, fmt.Sprintf("%s: %v", gvr.Resource, err), nil
			}
		}
		return true, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
