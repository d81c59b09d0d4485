package restart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/restart"
	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// onCalico creates a namespace's objects while pods still get their IPs from Calico, then switches
// the fake agent to Cilium: the namespace then needs pod_restart.
func (e *env) onCalico(ctx context.Context, t *testing.T, ns string, objs ...any) {
	t.Helper()
	e.agent.switchTo(false)
	create(ctx, t, e.kube, ns, objs...)
	e.agent.toCilium(ctx, t, e.kube)
}

func testBareDelete(ctx context.Context, t *testing.T, e *env) {
	e.onCalico(ctx, t, "rt-bare", barePod("rt-bare", "scratch"), deployment("rt-bare", "keep", 1))
	p := params("rt-bare")
	p.BarePods = restart.BarePodsDelete
	_, rep, err := e.run(ctx, t, p, false)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(rep.BarePods) != 1 || rep.BarePods[0].Outcome != restart.BareEvicted {
		t.Errorf("bare pods %+v, want rt-bare/scratch evicted", rep.BarePods)
	}
	if _, err := e.kube.CoreV1().Pods("rt-bare").Get(ctx, "scratch", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("bare pod scratch still there (err %v)", err)
	}
	if got := byName(rep)["Deployment rt-bare/keep"]; got.Outcome != restart.OutcomeRolledOut {
		t.Errorf("keep: %s", show(got))
		for _, s := range rep.Skipped {
			t.Logf("skipped %s: %s", s.Ref, s.Reason)
		}
	}
}

func testPDBBlocked(ctx context.Context, t *testing.T, e *env) {
	const ns = "rt-pdb"
	e.onCalico(ctx, t, ns, statefulSet(ns, "guarded", 1, appsv1.OnDeleteStatefulSetStrategyType), deployment(ns, "free", 1))
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "guarded-pdb"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels("guarded")}}}
	if _, err := e.kube.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.For(ctx, "PDB guarded-pdb computed", time.Minute, time.Second, func(ctx context.Context) (bool, string, error) {
		got, err := e.kube.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "guarded-pdb", metav1.GetOptions{})
		return err == nil && got.Status.ObservedGeneration >= got.Generation && got.Status.CurrentHealthy == 1, "", err
	})
	if err != nil {
		t.Fatal(err)
	}
	p := params(ns)
	p.Timeout = 8 * time.Second
	_, rep, err := e.run(ctx, t, p, false)
	if err == nil {
		t.Fatal("no error although the PDB forbids the eviction")
	}
	if len(rep.Failures) != 1 {
		t.Fatalf("failures %+v, want StatefulSet guarded only", rep.Failures)
	}
	f := rep.Failures[0]
	t.Logf("failure: %s: reason %q; observed %q; pdb %q", f.Ref, f.Reason, f.Observed, f.PDB)
	if f.Ref.String() != "StatefulSet rt-pdb/guarded" || f.PDB != "guarded-pdb" || !strings.Contains(f.Reason, "guarded-pdb") {
		t.Errorf("failure %+v, want StatefulSet rt-pdb/guarded refused by guarded-pdb", f)
	}
	if got := byName(rep)["Deployment rt-pdb/free"]; got.Outcome != restart.OutcomeRolledOut {
		t.Errorf("free: %s, want rolled out although guarded is blocked", show(got))
	}
}

func testResume(ctx context.Context, t *testing.T, e *env) {
	const ns = "rt-resume"
	var objs []any
	for i := range 8 {
		objs = append(objs, deployment(ns, fmt.Sprintf("svc-%d", i), 1))
	}
	e.onCalico(ctx, t, ns, objs...)

	runCtx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	done := 0
	p := params(ns)
	p.Parallelism = 1
	p.Progress = func(ev restart.Event) {
		if ev.Phase == "done" {
			if done++; done == 3 {
				interrupt() // as a SIGTERM to the module would
			}
		}
	}
	_, first, err := e.run(runCtx, t, p, false)
	if err == nil {
		t.Fatal("an interrupted run reported success")
	}
	restarted, notStarted := names(first.Workloads, restart.OutcomeRolledOut), names(first.Workloads, restart.OutcomeNotStarted)
	if len(restarted) != 3 || len(notStarted) != 5 {
		t.Fatalf("interrupted run: restarted %v, not started %v; want 3 and 5", restarted, notStarted)
	}

	p.Progress = nil
	pl, second, err := e.run(ctx, t, p, false)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	var resumed []string
	for _, s := range pl.Steps {
		resumed = append(resumed, s.Name)
	}
	slices.Sort(resumed)
	if !slices.Equal(resumed, notStarted) || !second.Changed {
		t.Errorf("resume restarted %v, want exactly the ones not started before: %v", resumed, notStarted)
	}

	_, third, err := e.run(ctx, t, p, false)
	if err != nil || third.Changed || third.Totals.Planned != 0 {
		t.Errorf("third run: err=%v changed=%v totals=%+v, want nothing to do", err, third.Changed, third.Totals)
	}
}

func testCreatedBefore(ctx context.Context, t *testing.T, e *env) {
	cutoff := time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(cutoff) + 100*time.Millisecond) // every pod of rt-resume is now older
	p := params("rt-resume")
	p.Strategy, p.CreatedBefore, p.TargetCIDRs = restart.StrategyCreatedBefore, cutoff.Format(time.RFC3339), nil
	_, first, err := e.run(ctx, t, p, false)
	if err != nil || first.Totals.Restarted != 8 {
		t.Fatalf("created_before: err=%v totals=%+v, want the 8 Deployments restarted", err, first.Totals)
	}
	_, again, err := e.run(ctx, t, p, false)
	if err != nil || again.Changed {
		t.Errorf("rerun with the same created_before: err=%v changed=%v totals=%+v, want nothing left", err, again.Changed, again.Totals)
	}
}

// testStuck pins a Deployment to a node of its own, then cordons that node: the restart's new pods
// cannot be scheduled, as a rollout whose new pods never start.
func testStuck(ctx context.Context, t *testing.T, e *env) {
	const ns, nodeName = "rt-stuck", "rt-stuck-node"
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{"kubernetes.io/hostname": nodeName},
			Annotations: map[string]string{defaults.LabNodeFakeAnnotation: "fake"}},
		Spec: corev1.NodeSpec{PodCIDR: "10.42.251.0/24", PodCIDRs: []string{"10.42.251.0/24"}},
	}
	if _, err := e.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.kube.CoreV1().Nodes().Delete(context.Background(), nodeName, metav1.DeleteOptions{}) })
	pinned := deployment(ns, "pinned", 2)
	pinned.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": nodeName}
	create(ctx, t, e.kube, ns, pinned, deployment(ns, "free", 1))
	cordon := fmt.Appendf(nil, `{"spec":{"unschedulable":true}}`)
	if _, err := e.kube.CoreV1().Nodes().Patch(ctx, nodeName, types.MergePatchType, cordon, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	p := params(ns)
	p.Strategy, p.Timeout = restart.StrategyAll, 15*time.Second
	_, rep, err := e.run(ctx, t, p, false)
	if err == nil || len(rep.Failures) != 1 {
		t.Fatalf("err=%v failures=%+v, want Deployment pinned failed", err, rep.Failures)
	}
	f := rep.Failures[0]
	t.Logf("failure: %s: reason %q; observed %q; pdb %q", f.Ref, f.Reason, f.Observed, f.PDB)
	if f.Ref.Name != "pinned" || !strings.Contains(f.Observed, "Unschedulable") || !strings.Contains(f.Observed, "2/2 ready") {
		t.Errorf("failure %+v: want pinned, observed showing the old pods ready and the new one Unschedulable", f)
	}
	if got := byName(rep)["Deployment rt-stuck/free"]; got.Outcome != restart.OutcomeRolledOut {
		t.Errorf("free: %s", show(got))
	}
}

func ptr[T any](v T) *T { return &v }

// testBinaryCheckMode runs the module binary as Ansible does, in check mode with --diff.
func testBinaryCheckMode(ctx context.Context, t *testing.T, e *env) {
	bin := library.Binary(t, "pod_restart")
	args, _ := json.Marshal(map[string]any{"namespaces": []string{"rt-kinds"}, "strategy": "all",
		"kubeconfig": e.lab.Kubeconfig(), "_ansible_check_mode": true, "_ansible_diff": true})
	argsFile := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(argsFile, args, 0o600); err != nil {
		t.Fatal(err)
	}
	before := writes(ctx, t, e.kube)
	out, err := exec.CommandContext(ctx, bin, argsFile).Output()
	if err != nil {
		t.Fatalf("pod_restart: %v\n%s", err, out)
	}
	var res struct {
		Changed   bool   `json:"changed"`
		Failed    bool   `json:"failed"`
		Msg       string `json:"msg"`
		Diff      struct{ After string }
		Workloads []restart.Result `json:"workloads"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	t.Logf("msg: %s", res.Msg)
	if res.Failed || !res.Changed || len(res.Workloads) != 5 || !strings.Contains(res.Diff.After, "Deployment rt-kinds/web") {
		t.Errorf("check mode: %s", out)
	}
	for _, w := range res.Workloads {
		if w.Outcome != restart.OutcomePlanned {
			t.Errorf("%s: outcome %s in check mode", w.Ref, w.Outcome)
		}
	}
	if after := writes(ctx, t, e.kube); !mapsEqual(before, after) {
		t.Errorf("check mode restarted or deleted something: %v", diffKeys(before, after))
	}
}
