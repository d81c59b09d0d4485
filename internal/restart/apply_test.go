package restart

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
)

var gvrDeployments = appsv1.SchemeGroupVersion.WithResource("deployments")

// unobserved makes a Deployment's restart look not yet observed by its controller (generation 2,
// observedGeneration 1); completeOnPatch then finishes it a little after it is patched.
func unobserved(objs []runtime.Object) []runtime.Object {
	objs[0].(*appsv1.Deployment).Generation = 2
	return objs
}

func completeOnPatch(t *testing.T, f *fake, ns, name string, after time.Duration) {
	f.kube.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() != ns || a.(k8stesting.PatchAction).GetName() != name {
			return false, nil, nil
		}
		go func() {
			time.Sleep(after)
			obj, err := f.kube.Tracker().Get(gvrDeployments, ns, name)
			if err != nil {
				t.Errorf("get %s: %v", name, err)
				return
			}
			d := obj.(*appsv1.Deployment).DeepCopy()
			d.Status.ObservedGeneration = d.Generation
			if err := f.kube.Tracker().Update(gvrDeployments, d, ns); err != nil {
				t.Errorf("update %s: %v", name, err)
			}
		}()
		return false, nil, nil
	})
}

func apply(t *testing.T, f *fake, p Parameters) (*Report, error) {
	t.Helper()
	s := open(t, f, p)
	return s.Apply(t.Context(), s.Plan())
}

func outcomes(rep *Report) map[string]Result {
	out := map[string]Result{}
	for _, r := range rep.Workloads {
		out[r.Name] = r
	}
	return out
}

func TestApplyRestartsDNSFirstAndWaitsForIt(t *testing.T) {
	objs := []runtime.Object{namespace("kube-system"), namespace("app")}
	objs = append(objs, unobserved(deployment("kube-system", "coredns", dnsLabels(), oldIP))...)
	for _, n := range []string{"a", "b", "c", "d"} {
		objs = append(objs, deployment("app", n, nil, oldIP)...)
	}
	f := newFake(t, false, objs...)
	completeOnPatch(t, f, "kube-system", "coredns", 300*time.Millisecond)
	rec := &recorder{}
	rep, err := apply(t, f, params(func(p *Parameters) { p.Strategy, p.TargetCIDRs, p.Progress = StrategyAll, nil, rec.record }))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	seq := rec.sequence()
	if len(seq) < 2 || seq[0] != "start coredns" || seq[1] != "done coredns" {
		t.Errorf("progress %v: want CoreDNS started and finished before anything else starts", seq)
	}
	if got := outcomes(rep)["coredns"]; got.Order != 1 || got.Outcome != OutcomeRolledOut {
		t.Errorf("coredns: %+v", got)
	}
	if rep.Totals.Restarted != 5 || !rep.Changed {
		t.Errorf("totals %+v changed=%v, want 5 restarted", rep.Totals, rep.Changed)
	}
	patched := 0
	for _, a := range f.kube.Actions() {
		if a.GetVerb() == "patch" {
			patched++
			if pa := a.(k8stesting.PatchAction); !strings.Contains(string(pa.GetPatch()), "kubectl.kubernetes.io/restartedAt") {
				t.Errorf("patch %s", pa.GetPatch())
			}
		}
		if a.GetVerb() == "get" && a.GetResource().Resource == "deployments" {
			t.Errorf("a per-workload GET was sent: rollouts must be followed through the watch cache")
		}
	}
	if patched != 5 {
		t.Errorf("%d patches, want 5 (one per workload)", patched)
	}
}

func TestApplyStopsWhenDNSFails(t *testing.T) {
	objs := []runtime.Object{namespace("kube-system"), namespace("app")}
	objs = append(objs, unobserved(deployment("kube-system", "coredns", dnsLabels(), oldIP))...)
	objs = append(objs, deployment("app", "web", nil, oldIP)...)
	rep, err := apply(t, newFake(t, false, objs...), params(func(p *Parameters) { p.Timeout = time.Second }))
	if err == nil {
		t.Fatal("no error although the DNS never rolled out")
	}
	got := outcomes(rep)
	if got["coredns"].Outcome != OutcomeFailed || !strings.Contains(got["coredns"].Message, "timed out") {
		t.Errorf("coredns: %+v", got["coredns"])
	}
	if got["web"].Outcome != OutcomeNotStarted || !strings.Contains(got["web"].Message, "cluster DNS") {
		t.Errorf("web: %+v, want not started because of the DNS", got["web"])
	}
}

func TestApplyReportsStuckRolloutAndFinishesTheOthers(t *testing.T) {
	stuck := deployment("app", "stuck", nil, oldIP)
	stuck[0].(*appsv1.Deployment).Status.UpdatedReplicas = 0
	pending := pod("app", "stuck-5d9c7-new", "", stuck[2].(*corev1.Pod).OwnerReferences)
	pending.Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes are available"}}}
	objs := append([]runtime.Object{namespace("app"), pending}, stuck...)
	objs = append(objs, deployment("app", "fine", nil, oldIP)...)
	rep, err := apply(t, newFake(t, false, objs...), params(func(p *Parameters) { p.Strategy, p.Timeout = StrategyAll, time.Second }))
	if err == nil || !strings.Contains(err.Error(), "Deployment app/stuck") {
		t.Fatalf("err = %v, want it to name the stuck Deployment", err)
	}
	got := outcomes(rep)
	if got["fine"].Outcome != OutcomeRolledOut {
		t.Errorf("fine: %+v", got["fine"])
	}
	if len(rep.Failures) != 1 {
		t.Fatalf("failures %+v", rep.Failures)
	}
	obs := rep.Failures[0].Observed
	for _, want := range []string{"0 of 1 new replicas updated", "1/1 ready", "Pending (Unschedulable: 0/3 nodes are available)"} {
		if !strings.Contains(obs, want) {
			t.Errorf("observed %q does not say %q", obs, want)
		}
	}
}

// pdbRefusal is the API server's answer when a PodDisruptionBudget blocks an eviction.
func pdbRefusal(pdb string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
		Type: policyv1.DisruptionBudgetCause, Message: "The disruption budget " + pdb + " needs 1 healthy pods and has 1 currently"})
	return err
}

// evictions answers evictions with refusals first, then evicts like the API server and recreates
// the pod like the StatefulSet controller (same name, new UID, an IP of the new CNI).
func evictions(t *testing.T, f *fake, refusals int) *atomic.Int32 {
	var calls atomic.Int32
	gvr := corev1.SchemeGroupVersion.WithResource("pods")
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		if int(calls.Add(1)) <= refusals {
			return true, nil, pdbRefusal("db-pdb")
		}
		ev := a.(k8stesting.CreateAction).GetObject().(*policyv1.Eviction)
		old, err := f.kube.Tracker().Get(gvr, ev.Namespace, ev.Name)
		if err != nil {
			return true, nil, err
		}
		p := old.(*corev1.Pod).DeepCopy()
		if err := f.kube.Tracker().Delete(gvr, ev.Namespace, ev.Name); err != nil {
			return true, nil, err
		}
		if len(p.OwnerReferences) > 0 {
			p.UID, p.Status.PodIP, p.ResourceVersion = types.UID(string(p.UID)+"-2"), newIP, ""
			if err := f.kube.Tracker().Create(gvr, p, ev.Namespace); err != nil {
				return true, nil, err
			}
		}
		return true, nil, nil
	})
	return &calls
}

func TestApplyEvictsOnDeletePodsRetryingWhilePDBRefuses(t *testing.T) {
	objs := append([]runtime.Object{namespace("app")}, statefulSet("app", "db", appsv1.OnDeleteStatefulSetStrategyType, oldIP, oldIP)...)
	f := newFake(t, false, objs...)
	calls := evictions(t, f, 1)
	rep, err := apply(t, f, params(nil))
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := outcomes(rep)["db"]; got.Action != ActionEvict || got.Outcome != OutcomeRolledOut {
		t.Errorf("db: %+v", got)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d eviction calls, want 3 (one refused by the PDB and retried, then one per pod)", n)
	}
	if !rep.Changed {
		t.Error("changed is false after evictions")
	}
}

func TestApplyRetriesEvictionsTheAPIServerFailedTransiently(t *testing.T) {
	objs := append([]runtime.Object{namespace("app")}, statefulSet("app", "db", appsv1.OnDeleteStatefulSetStrategyType, oldIP)...)
	f := newFake(t, false, objs...)
	calls := evictions(t, f, 0)
	var failed atomic.Int32
	f.kube.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" || failed.Add(1) > 2 {
			return false, nil, nil
		}
		return true, nil, apierrors.NewServiceUnavailable("apiserver is shutting down")
	})
	rep, err := apply(t, f, params(nil))
	if err != nil {
		t.Fatalf("Apply failed on a transient eviction error: %v", err)
	}
	if got := outcomes(rep)["db"]; got.Action != ActionEvict || got.Outcome != OutcomeRolledOut {
		t.Errorf("db: %+v", got)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d evictions reached the API server after the failures, want 1", n)
	}
}

func TestApplyReportsPDBThatBlocksPastTheTimeout(t *testing.T) {
	objs := append([]runtime.Object{namespace("app")}, statefulSet("app", "db", appsv1.OnDeleteStatefulSetStrategyType, oldIP)...)
	objs = append(objs, deployment("app", "web", nil, oldIP)...)
	f := newFake(t, false, objs...)
	evictions(t, f, 1000)
	// strategy all: the fake has no controller to give web's new pods an address of the new CNI.
	rep, err := apply(t, f, params(func(p *Parameters) { p.Strategy, p.Timeout = StrategyAll, 3*time.Second }))
	if err == nil {
		t.Fatal("no error although the PDB never allowed the eviction")
	}
	if len(rep.Failures) != 1 {
		t.Fatalf("failures: %+v", rep.Failures)
	}
	fl := rep.Failures[0]
	if fl.PDB != "db-pdb" || !strings.Contains(fl.Reason, "refused by PodDisruptionBudget db-pdb") ||
		!strings.Contains(fl.Observed, "needs 1 healthy pods") {
		t.Errorf("failure %+v: want the PDB named, with the server's explanation", fl)
	}
	if got := outcomes(rep)["web"]; got.Outcome != OutcomeRolledOut {
		t.Errorf("web: %+v, want it restarted although db is blocked", got)
	}
	if rep.Changed != true {
		t.Error("changed is false although web was restarted")
	}
}

func TestApplyBarePods(t *testing.T) {
	objs := []runtime.Object{namespace("app"), pod("app", "debug", oldIP, nil)}
	for _, mode := range []string{BarePodsReport, BarePodsDelete} {
		t.Run(mode, func(t *testing.T) {
			f := newFake(t, false, objs...)
			calls := evictions(t, f, 0)
			rep, err := apply(t, f, params(func(p *Parameters) { p.BarePods = mode }))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want, evicted := BareReported, int32(0)
			if mode == BarePodsDelete {
				want, evicted = BareEvicted, 1
			}
			if len(rep.BarePods) != 1 || rep.BarePods[0].Outcome != want || calls.Load() != evicted {
				t.Errorf("bare pods %+v after %d evictions, want outcome %s after %d", rep.BarePods, calls.Load(), want, evicted)
			}
			if rep.Changed != (mode == BarePodsDelete) {
				t.Errorf("changed = %v", rep.Changed)
			}
		})
	}
}

// A Job's pod still on the old CNI would lose its network with the old CNI's links: with
// other_pods evict it is evicted (its controller recreates it), with report it is listed and left;
// with no kinds, no workload is touched either way.
func TestApplyOtherControllersPods(t *testing.T) {
	jobPod := pod("app", "train-x1", oldIP, []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "train", UID: "job-uid", Controller: ptr(true)}})
	objs := append([]runtime.Object{namespace("app"), jobPod}, deployment("app", "web", nil, oldIP)...)
	for _, mode := range OtherPodsModes {
		t.Run(mode, func(t *testing.T) {
			f := newFake(t, false, objs...)
			calls := evictions(t, f, 0)
			rep, err := apply(t, f, params(func(p *Parameters) { p.OtherPods, p.Kinds = mode, []string{} }))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want, evicted := BareReported, int32(0)
			if mode == OtherPodsEvict {
				want, evicted = BareEvicted, 1
			}
			if len(rep.OtherPods) != 1 || rep.OtherPods[0].Outcome != want || rep.OtherPods[0].Owner != "Job/train" || calls.Load() != evicted {
				t.Errorf("other pods %+v after %d evictions, want Job/train's pod %s after %d", rep.OtherPods, calls.Load(), want, evicted)
			}
			if len(rep.Workloads) != 0 {
				t.Errorf("workloads %+v, want none with an empty kinds list", rep.Workloads)
			}
			if rep.Changed != (mode == OtherPodsEvict) || rep.Totals.OtherPods != 1 {
				t.Errorf("changed = %v, totals %+v", rep.Changed, rep.Totals)
			}
		})
	}
}

func TestApplyInterruptedLeavesTheRestNotStarted(t *testing.T) {
	objs := []runtime.Object{namespace("app")}
	for _, n := range []string{"a", "b", "c"} {
		objs = append(objs, deployment("app", n, nil, oldIP)...)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p := params(func(p *Parameters) {
		p.Strategy, p.Parallelism = StrategyAll, 1
		p.Progress = func(e Event) {
			if e.Phase == "done" {
				cancel()
			}
		}
	})
	s := open(t, newFake(t, false, objs...), p)
	rep, err := s.Apply(ctx, s.Plan())
	if err == nil || rep.Totals.Restarted != 1 || rep.Totals.NotStarted != 2 {
		t.Fatalf("err=%v totals=%+v, want 1 restarted and 2 not started", err, rep.Totals)
	}
	for _, r := range rep.Workloads[1:] {
		if !strings.Contains(r.Message, "interrupted") {
			t.Errorf("%s: %q", r.Name, r.Message)
		}
	}
	if !slices.ContainsFunc(rep.Workloads, func(r Result) bool { return r.Order == 1 }) {
		t.Error("no workload has order 1")
	}
}
