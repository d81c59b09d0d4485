package connectivity

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

func fakeKube() *fake.Clientset {
	node := func(name string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	}
	return fake.NewClientset(node("n1"), node("n2"))
}

func params(t *testing.T, o Options) Parameters {
	t.Helper()
	p, err := o.Parse()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writes(kube *fake.Clientset) []string {
	var out []string
	for _, a := range kube.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" && v != "watch" {
			out = append(out, v+" "+a.GetResource().Resource)
		}
	}
	return out
}

func TestCheckModeRunsOnlyReadOnlyChecks(t *testing.T) {
	t.Parallel()
	kube := fakeKube()
	out := filepath.Join(t.TempDir(), "result.json")
	p := params(t, Options{FailOn: "none", OutputJSON: out})
	p.CheckMode = true
	r, err := Run(context.Background(), Clients{Kube: kube}, p)
	if err != nil {
		t.Fatal(err)
	}
	if w := writes(kube); len(w) != 0 {
		t.Errorf("check mode wrote to the cluster: %v", w)
	}
	if len(r.Checks) == 0 || len(r.Probes) == 0 {
		t.Fatalf("check mode must still report health checks and list the probes: %+v", r)
	}
	for _, e := range r.Probes {
		if e.Status != result.Skipped || (e.Reason != CheckModeReason && e.Name != "dns/external") {
			t.Errorf("probe %s in check mode: %s %q", e.Title(), e.Status, e.Reason)
		}
	}
	if len(r.TemporaryObjects) != 5 || !strings.HasPrefix(r.TemporaryObjects[0], "Namespace/cnimigrate-connectivity-") {
		t.Errorf("planned objects %v", r.TemporaryObjects)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("check mode must not write output_json (stat: %v)", err)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "not written") {
		t.Errorf("notes must say the outputs were not written: %v", r.Notes)
	}
}

func TestFailOnAndOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A fake cluster has no CNI agent and no CoreDNS: health checks fail.
	opts := Options{Checks: []string{"health"}, OutputJSON: filepath.Join(dir, "r.json"), OutputJUnit: filepath.Join(dir, "r.xml")}
	r, err := Run(context.Background(), Clients{Kube: fakeKube()}, params(t, opts))
	var failed *ChecksFailedError
	if !errors.As(err, &failed) || r == nil {
		t.Fatalf("fail_on any: err %v, report %v", err, r)
	}
	if !strings.HasPrefix(err.Error(), "4/6 health checks passed, 2 failed, 0 skipped. Failed: cni-agent: no CNI agent DaemonSet found") {
		t.Errorf("message %q", err)
	}
	for _, f := range []string{opts.OutputJSON, opts.OutputJUnit} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("outputs must be written also when checks fail: %v", err)
		}
	}
	opts.FailOn = "none"
	if r, err := Run(context.Background(), Clients{Kube: fakeKube()}, params(t, opts)); err != nil || r.Counts.Health.Failed != 2 {
		t.Errorf("fail_on none reports without failing: %v, %+v", err, r.Counts)
	}
	// The result written is accepted as a baseline; a missing baseline fails before anything is created.
	opts.Baseline = opts.OutputJSON
	if r, err := Run(context.Background(), Clients{Kube: fakeKube()}, params(t, opts)); err != nil || r.Baseline == nil {
		t.Errorf("own output as baseline: %v", err)
	}
	kube := fakeKube()
	opts.Baseline, opts.Checks = filepath.Join(dir, "missing.json"), nil
	if _, err := Run(context.Background(), Clients{Kube: kube}, params(t, opts)); err == nil || !strings.Contains(err.Error(), "does not exist") || len(kube.Actions()) != 0 {
		t.Errorf("missing baseline: %v, actions %v", err, kube.Actions())
	}
}
