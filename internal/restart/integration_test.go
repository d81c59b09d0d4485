package restart_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/restart"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
)

// targetCIDR is Cilium's pool in these tests: no kwok pod ever gets an address from it, so only
// CiliumEndpoints (created by the fake agent) make a pod managed.
const targetCIDR = "10.245.0.0/16"

// env is one lab with Cilium's CiliumEndpoint CRD and a fake Cilium agent.
type env struct {
	lab   *lab.Lab
	kube  kubernetes.Interface
	dyn   dynamic.Interface
	cl    restart.Clients
	agent *ciliumAgent
}

func newEnv(ctx context.Context, t *testing.T) *env {
	cfg := lab.Defaults()
	cfg.Hosts = false // pod_restart talks to the API server only
	l := labtest.Start(t, cfg)
	kc, err := k8s.FromConfig(l.RESTConfig(), l.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cl, err := restart.ClientsFor(kc)
	if err != nil {
		t.Fatal(err)
	}
	installEndpointCRD(ctx, t, apiextclient.NewForConfigOrDie(l.RESTConfig()))
	e := &env{lab: l, kube: kc.Kube, dyn: kc.Dynamic, cl: cl}
	e.agent = startCiliumAgent(t, e.kube, e.dyn)
	t.Cleanup(func() { e.agent.check(t) })
	return e
}

// params are the module's defaults for these tests: the given namespaces, Cilium's test pool.
func params(namespaces ...string) restart.Parameters {
	p := restart.Defaults()
	p.Namespaces, p.TargetCIDRs = namespaces, []string{targetCIDR}
	p.Timeout = 2 * time.Minute
	return p
}

// run plans and (unless check) applies, as the module does.
func (e *env) run(ctx context.Context, t *testing.T, p restart.Parameters, check bool) (*restart.Plan, *restart.Report, error) {
	t.Helper()
	s, err := restart.Open(ctx, e.cl, p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	pl := s.Plan()
	if check {
		return pl, restart.Planned(pl), nil
	}
	rep, err := s.Apply(ctx, pl)
	return pl, rep, err
}

// order records the progress events of a run.
type order struct {
	mu     sync.Mutex
	events []string
}

func (o *order) record(e restart.Event) {
	o.mu.Lock()
	o.events = append(o.events, e.Phase+" "+e.Ref.String())
	o.mu.Unlock()
}

func byName(rep *restart.Report) map[string]restart.Result {
	out := map[string]restart.Result{}
	for _, r := range rep.Workloads {
		out[r.Ref.String()] = r
	}
	return out
}

func steps(pl *restart.Plan) []string {
	var out []string
	for _, s := range pl.Steps {
		out = append(out, s.Action+" "+s.Ref.String())
	}
	return out
}

func TestIntegrationPodRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	e := newEnv(ctx, t)
	create(ctx, t, e.kube, "rt-kinds",
		deployment("rt-kinds", "web", 2),
		statefulSet("rt-kinds", "db", 2, appsv1.RollingUpdateStatefulSetStrategyType),
		statefulSet("rt-kinds", "legacy", 1, appsv1.OnDeleteStatefulSetStrategyType),
		daemonSet("rt-kinds", "agent", false),
		onDelete(daemonSet("rt-kinds", "ondel", false)),
		daemonSet("rt-kinds", "hostagent", true),
		barePod("rt-kinds", "debug"))

	var checked *restart.Plan
	t.Run("check mode lists the plan and changes nothing", func(t *testing.T) {
		before := writes(ctx, t, e.kube)
		pl, rep, _ := e.run(ctx, t, params(), true)
		checked = pl
		if !rep.Changed || len(pl.Steps) == 0 || pl.Steps[0].Name != "coredns" {
			t.Fatalf("check mode: changed=%v steps=%v, want a plan that starts with CoreDNS", rep.Changed, steps(pl))
		}
		if after := writes(ctx, t, e.kube); !mapsEqual(before, after) {
			t.Errorf("check mode restarted or deleted something: %v", diffKeys(before, after))
		}
	})

	t.Run("whole cluster: DNS first, every kind, hostNetwork skipped, bare pods reported", func(t *testing.T) {
		e.agent.toCilium(ctx, t, e.kube)
		before := podUIDs(ctx, t, e.kube)
		rec := &order{}
		p := params()
		p.Progress = rec.record
		pl, rep, err := e.run(ctx, t, p, false)
		if err != nil {
			t.Fatalf("Apply: %v\nfailures: %+v", err, rep.Failures)
		}
		t.Logf("%s; first events %v", rep.Summary(false), rec.events[:min(4, len(rec.events))])
		assertDNSFirst(t, rec.events)
		if checked != nil && !slices.Equal(steps(checked), steps(pl)) {
			t.Errorf("the run's plan differs from check mode's:\ncheck: %v\nrun:   %v", steps(checked), steps(pl))
		}
		got := byName(rep)
		for ref, action := range map[string]string{
			"Deployment kube-system/coredns": restart.ActionRestart, "Deployment rt-kinds/web": restart.ActionRestart,
			"StatefulSet rt-kinds/db": restart.ActionRestart, "DaemonSet rt-kinds/agent": restart.ActionRestart,
			"StatefulSet rt-kinds/legacy": restart.ActionEvict, "DaemonSet rt-kinds/ondel": restart.ActionEvict,
			"StatefulSet mlflow-system/mlflow-postgres": restart.ActionRestart, "DaemonSet seldon-system/model-cache": restart.ActionRestart,
		} {
			if r := got[ref]; r.Action != action || r.Outcome != restart.OutcomeRolledOut {
				t.Errorf("%s: action %q outcome %q, want %q rolled out", ref, r.Action, r.Outcome, action)
			}
		}
		assertSkipped(t, rep, map[string]string{
			"DaemonSet kube-system/calico-node": restart.ReasonHostNetwork,
			"DaemonSet rt-kinds/hostagent":      restart.ReasonHostNetwork,
		})
		assertBare(t, rep, "financial-inference/model-validation", "rt-kinds/debug")
		after := podUIDs(ctx, t, e.kube)
		for _, name := range []string{"rt-kinds/db-0", "rt-kinds/legacy-0", "rt-kinds/debug"} {
			if changed := before[name] != after[name]; changed != (name != "rt-kinds/debug") {
				t.Errorf("pod %s: replaced=%v", name, changed)
			}
		}
	})

	t.Run("rerun with nothing left is unchanged", func(t *testing.T) {
		pl, rep, err := e.run(ctx, t, params(), false)
		if err != nil || rep.Changed || len(pl.Steps) != 0 {
			t.Errorf("rerun: err=%v changed=%v steps=%v, want nothing to do", err, rep.Changed, steps(pl))
		}
		if len(rep.BarePods) == 0 {
			t.Error("the bare pods are no longer reported")
		}
	})

	t.Run("pod IPs in target_cidrs count as managed", func(t *testing.T) {
		p := params("rt-kinds")
		p.TargetCIDRs = []string{"10.42.0.0/16"}
		p.Strategy = restart.StrategyUnmanaged
		pl, _, _ := e.run(ctx, t, p, true)
		if len(pl.Steps) != 0 {
			t.Errorf("every pod is in 10.42.0.0/16, yet the plan restarts %v", steps(pl))
		}
	})

	t.Run("module binary in check mode", func(t *testing.T) { testBinaryCheckMode(ctx, t, e) })
	t.Run("bare pods delete", func(t *testing.T) { testBareDelete(ctx, t, e) })
	t.Run("PDB-blocked eviction is reported with the PDB", func(t *testing.T) { testPDBBlocked(ctx, t, e) })
	t.Run("resume after interruption", func(t *testing.T) { testResume(ctx, t, e) })
	t.Run("created_before resumes too", func(t *testing.T) { testCreatedBefore(ctx, t, e) })
	t.Run("stuck rollout is reported, the others complete", func(t *testing.T) { testStuck(ctx, t, e) })
}

func assertDNSFirst(t *testing.T, events []string) {
	t.Helper()
	if len(events) < 3 || events[0] != "start Deployment kube-system/coredns" || events[1] != "done Deployment kube-system/coredns" {
		t.Errorf("progress starts %v, want CoreDNS started and done before anything else starts", events[:min(4, len(events))])
	}
}

func assertSkipped(t *testing.T, rep *restart.Report, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, s := range rep.Skipped {
		got[s.Ref.String()] = s.Reason
	}
	for ref, reason := range want {
		if !strings.Contains(got[ref], reason) {
			t.Errorf("%s skipped with %q, want %q", ref, got[ref], reason)
		}
	}
}

func assertBare(t *testing.T, rep *restart.Report, want ...string) {
	t.Helper()
	var got []string
	for _, b := range rep.BarePods {
		got = append(got, b.Namespace+"/"+b.Name)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("bare pods %v, want %s among them", got, w)
		}
	}
}

// diffKeys lists the keys whose values differ, or that only one map has.
func diffKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func names(rs []restart.Result, outcome string) []string {
	var out []string
	for _, r := range rs {
		if r.Outcome == outcome {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// show prints a result's fields (Result's String method, promoted from Ref, prints only the ref).
func show(r restart.Result) string {
	return fmt.Sprintf("%s action=%q outcome=%q message=%q observed=%q", r.Ref, r.Action, r.Outcome, r.Message, r.Observed)
}
