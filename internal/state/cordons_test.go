package state

import (
	"context"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

func TestCordonsFirstRecordWinsAndLivesBesideTheProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := fake.NewClientset()
	c := Cordons{ConfigMaps: cs.CoreV1(), Namespace: "kube-system", Name: "cnimigrate-state"}
	if _, known, err := c.CordonedBefore(ctx, "agent-1"); err != nil || known {
		t.Fatalf("no migration state: known=%v err=%v, want nothing recorded", known, err)
	}
	if got, err := c.RecordCordonedBefore(ctx, "agent-1", true); err != nil || !got {
		t.Fatalf("first record: %v %v", got, err)
	}
	run(t, cs.CoreV1(), Parameters{State: StateSet, Node: "agent-1", Phase: "migrated", PhaseStatus: PhaseStarted}, false)
	// A re-run after the migration cordoned the node sees it cordoned; the first record stays.
	if got, err := c.RecordCordonedBefore(ctx, "agent-1", false); err != nil || !got {
		t.Fatalf("second record: got %v (%v), want the first one (true)", got, err)
	}
	if cordoned, known, err := c.CordonedBefore(ctx, "agent-1"); err != nil || !known || !cordoned {
		t.Fatalf("recorded: %v %v %v", cordoned, known, err)
	}
	v := NewView(run(t, cs.CoreV1(), Parameters{}, false).After)
	n := v.Nodes["agent-1"]
	if n.CordonedBefore == nil || !*n.CordonedBefore || len(n.Phases) != 1 {
		t.Fatalf("node view %+v: want the cordon and the started phase", n)
	}
	if v.CordonedBefore != nil {
		t.Errorf("the cluster-wide progress shows a cordon: %v", *v.CordonedBefore)
	}
}
