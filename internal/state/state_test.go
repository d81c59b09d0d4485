package state

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// clock returns a fake clock that advances by step on every reading.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func run(t *testing.T, cms corev1client.ConfigMapsGetter, p Parameters, check bool) *Outcome {
	t.Helper()
	p.CheckMode = check
	out, err := Run(context.Background(), cms, p)
	if err != nil {
		t.Fatalf("Run(%+v): %v", p, err)
	}
	return out
}

func TestRunRecordsPhasesIdempotently(t *testing.T) {
	cs := fake.NewClientset()
	now := clock(2 * time.Second)
	steps := []struct {
		name        string
		p           Parameters
		wantChanged bool
		wantPlan    string
	}{
		{"first start creates the record", Parameters{State: StateSet, Strategy: "live", Phase: "backup", PhaseStatus: PhaseStarted}, true, "create ConfigMap kube-system/cnimigrate-state"},
		{"complete", Parameters{State: StateSet, Phase: "backup"}, true, "complete phase backup"},
		{"complete again changes nothing", Parameters{State: StateSet, Phase: "backup"}, false, ""},
		{"start of a completed phase changes nothing", Parameters{State: StateSet, Phase: "backup", PhaseStatus: PhaseStarted}, false, ""},
		{"same strategy changes nothing", Parameters{State: StateSet, Strategy: "live", Phase: "backup"}, false, ""},
		{"node progress", Parameters{State: StateSet, Node: "agent-1", Phase: "migrated"}, true, "node agent-1: complete phase migrated"},
		{"node progress again", Parameters{State: StateSet, Node: "agent-1", Phase: "migrated"}, false, ""},
		{"read", Parameters{}, false, ""},
	}
	for _, s := range steps {
		s.p.Now = now
		out := run(t, cs.CoreV1(), s.p, false)
		if out.Changed() != s.wantChanged {
			t.Fatalf("%s: changed = %v, want %v (plan %v)", s.name, out.Changed(), s.wantChanged, out.Plan)
		}
		if s.wantPlan != "" && !contains(out.Plan, s.wantPlan) {
			t.Fatalf("%s: plan %v lacks %q", s.name, out.Plan, s.wantPlan)
		}
	}
	v := NewView(run(t, cs.CoreV1(), Parameters{}, false).After)
	if !v.Exists || v.Strategy != "live" || v.Phase != "backup" || strings.Join(v.Completed, ",") != "backup" {
		t.Fatalf("view = %+v", v)
	}
	if d := v.Phases[0].DurationSeconds; d == nil || *d != 2 {
		t.Fatalf("backup duration = %v, want 2 s (one clock step between start and completion)", d)
	}
	if got := v.Nodes["agent-1"].Completed; len(got) != 1 || got[0] != "migrated" {
		t.Fatalf("node agent-1 completed = %v", got)
	}
}

func TestRunCheckModeWritesNothing(t *testing.T) {
	cs := fake.NewClientset()
	out := run(t, cs.CoreV1(), Parameters{State: StateSet, Phase: "preflight"}, true)
	if !out.Changed() || NewView(out.After).Phase != "preflight" {
		t.Fatalf("check mode should report the planned completion, got plan %v", out.Plan)
	}
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "cnimigrate-state", metav1.GetOptions{}); err == nil {
		t.Fatal("check mode created the ConfigMap")
	}
}

func TestRunResumedPhaseCountsAttempts(t *testing.T) {
	cs := fake.NewClientset()
	for range 2 {
		run(t, cs.CoreV1(), Parameters{State: StateSet, Phase: "remove_calico", PhaseStatus: PhaseStarted}, false)
	}
	out := run(t, cs.CoreV1(), Parameters{State: StateSet, Phase: "remove_calico"}, false)
	v := NewView(out.After)
	if v.Phases[0].Attempts != 2 || v.Phases[0].CompletedAt == "" {
		t.Fatalf("phase = %+v, want 2 attempts and completed", v.Phases[0])
	}
}

func TestRunMergesData(t *testing.T) {
	cs := fake.NewClientset()
	run(t, cs.CoreV1(), Parameters{State: StateSet, Data: map[string]any{"backup_dir": "/b", "restarted": int64(3)}}, false)
	if out := run(t, cs.CoreV1(), Parameters{State: StateSet, Data: map[string]any{"restarted": int64(3)}}, false); out.Changed() {
		t.Fatalf("same data should change nothing, plan %v", out.Plan)
	}
	out := run(t, cs.CoreV1(), Parameters{State: StateSet, Data: map[string]any{"backup_dir": nil, "x": "y"}}, false)
	v := NewView(out.After)
	if _, ok := v.Data["backup_dir"]; ok || v.Data["x"] != "y" || v.Data["restarted"] != float64(3) {
		t.Fatalf("data = %v, want backup_dir removed, x=y, restarted kept", v.Data)
	}
}

func TestRunRefusals(t *testing.T) {
	cs := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cnimigrate-state"},
		Data:       map[string]string{"strategy": "replace", "phase": "backup"},
	}, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "broken"},
		Data:       map[string]string{"phases.json": "{not json"},
	})
	cases := []struct {
		name string
		p    Parameters
		want string
	}{
		{"other strategy", Parameters{State: StateSet, Strategy: "live"}, "uses strategy replace"},
		{"set without anything", Parameters{State: StateSet}, "needs at least one of"},
		{"node without phase", Parameters{State: StateSet, Node: "n", Strategy: "replace"}, "node is given without phase"},
		{"corrupt record", Parameters{Name: "broken"}, "key phases.json is not valid JSON"},
		{"bad status", Parameters{State: StateSet, Phase: "x", PhaseStatus: "done"}, "phase_status must be one of"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(context.Background(), cs.CoreV1(), c.p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestRunAbsent(t *testing.T) {
	cs := fake.NewClientset()
	run(t, cs.CoreV1(), Parameters{State: StateSet, Node: "a", Phase: "migrated"}, false)
	run(t, cs.CoreV1(), Parameters{State: StateSet, Node: "b", Phase: "migrated"}, false)
	out := run(t, cs.CoreV1(), Parameters{State: StateAbsent, Node: "a"}, false)
	if _, ok := NewView(out.After).Nodes["a"]; ok || !out.Changed() {
		t.Fatalf("node a should be forgotten: %+v", out)
	}
	if out := run(t, cs.CoreV1(), Parameters{State: StateAbsent}, false); !out.Changed() || out.After != nil {
		t.Fatalf("absent should delete the record: %+v", out)
	}
	if out := run(t, cs.CoreV1(), Parameters{State: StateAbsent}, false); out.Changed() {
		t.Fatalf("absent twice should change nothing: %+v", out.Plan)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestRunSurvivesNullNode: a stored node entry that is null (a hand edit, another tool's write) is
// a node with no progress, not a crash of every later read and write.
func TestRunSurvivesNullNode(t *testing.T) {
	cs := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cnimigrate-state"},
		Data: map[string]string{"strategy": "live", "phase": "backup",
			"nodes.json": `{"x": null, "agent-1": {"phase": "migrated", "phases": [{"name": "migrated", "completed_at": "2024-05-01T10:00:00.000Z"}]}}`},
	})
	v := NewView(run(t, cs.CoreV1(), Parameters{}, false).After)
	if x, ok := v.Nodes["x"]; !ok || len(x.Completed) != 0 {
		t.Errorf("node x = %+v (listed: %v), want listed with nothing completed", x, ok)
	}
	if got := v.Nodes["agent-1"].Completed; len(got) != 1 || got[0] != "migrated" {
		t.Errorf("node agent-1 completed = %v, want [migrated]", got)
	}
	out := run(t, cs.CoreV1(), Parameters{State: StateSet, Node: "x", Phase: "migrated"}, false)
	if got := NewView(out.After).Nodes["x"].Completed; len(got) != 1 || got[0] != "migrated" {
		t.Errorf("after recording node x: completed = %v, want [migrated]", got)
	}
	if out := run(t, cs.CoreV1(), Parameters{State: StateAbsent, Node: "agent-1"}, false); !out.Changed() {
		t.Errorf("forgetting agent-1 next to a null node changed nothing: %v", out.Plan)
	}
}
