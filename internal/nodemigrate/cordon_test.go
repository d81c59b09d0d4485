package nodemigrate

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/state"
)

func cordonedNode(name string) *corev1.Node {
	n := node(name)
	n.Spec.Unschedulable = true
	return n
}

// steps runs node states in order against the fake, keeping cordons in the migration state as
// the module does.
func steps(t *testing.T, cs *fake.Clientset, name string, check bool, states ...string) *Result {
	t.Helper()
	var res *Result
	for _, st := range states {
		var err error
		p := Parameters{Node: name, State: st, BarePods: BareSkip, Cordons: state.Cordons{ConfigMaps: cs.CoreV1(),
			Namespace: defaults.MigrationStateNamespace, Name: defaults.MigrationStateConfigMap}, CheckMode: check}
		if res, err = Run(context.Background(), cs, p); err != nil {
			t.Fatalf("%s %s: %v", st, name, err)
		}
	}
	return res
}

func TestOperatorsCordonOutlivesTheMigration(t *testing.T) {
	t.Parallel()
	cs := cluster(t, cordonedNode("agent-1"), pod("jupyter", "web", "agent-1", "ReplicaSet"))
	steps(t, cs, "agent-1", false, Cordoned, Drained, Labeled)
	res := steps(t, cs, "agent-1", false, Uncordoned)
	if !getNodeT(t, cs, "agent-1").Spec.Unschedulable {
		t.Fatal("the migration uncordoned a node the operator had cordoned before it")
	}
	if res.Changed() || res.CordonedBefore == nil || !*res.CordonedBefore || !strings.Contains(res.Note, "cordoned before the migration") {
		t.Fatalf("uncordoned: plan %v, cordoned_before %v, note %q; want no change, the record, and why", res.Plan, res.CordonedBefore, res.Note)
	}
}

// The run is interrupted after the migration cordoned the node; the re-run sees the node cordoned
// but must still uncordon it at the end: the record from before the first cordon wins.
func TestMigrationsCordonIsUndoneAfterAnInterruptedRun(t *testing.T) {
	t.Parallel()
	cs := cluster(t, node("agent-1"), pod("jupyter", "web", "agent-1", "ReplicaSet"))
	steps(t, cs, "agent-1", false, Cordoned)
	if !getNodeT(t, cs, "agent-1").Spec.Unschedulable {
		t.Fatal("cordoned: node not cordoned")
	}
	again := steps(t, cs, "agent-1", false, Cordoned, Drained)
	if again.CordonedBefore == nil || *again.CordonedBefore {
		t.Fatalf("re-run: cordoned_before %v, want false (the record from before the first cordon)", again.CordonedBefore)
	}
	res := steps(t, cs, "agent-1", false, Uncordoned)
	if getNodeT(t, cs, "agent-1").Spec.Unschedulable || strings.Join(res.Plan, ",") != "uncordon node agent-1" {
		t.Fatalf("the node the migration cordoned stays cordoned after a re-run (plan %v)", res.Plan)
	}
}

// A rollback uncordons every node; a node the migration never reached, which the operator cordoned,
// has no record and must stay cordoned.
func TestRollbackLeavesAnUnrecordedCordonAlone(t *testing.T) {
	t.Parallel()
	cs := cluster(t, cordonedNode("server-1"), node("agent-1"))
	steps(t, cs, "agent-1", false, Cordoned) // the migration reached agent-1 only
	res := steps(t, cs, "server-1", false, Uncordoned)
	if !getNodeT(t, cs, "server-1").Spec.Unschedulable || res.Changed() || len(res.Warnings) != 1 {
		t.Fatalf("server-1: plan %v warnings %v; want it left cordoned, with a warning", res.Plan, res.Warnings)
	}
	steps(t, cs, "agent-1", false, Uncordoned)
	if getNodeT(t, cs, "agent-1").Spec.Unschedulable {
		t.Fatal("agent-1, cordoned by the migration, was not uncordoned")
	}
}

func TestCordonCheckModeRecordsNothing(t *testing.T) {
	t.Parallel()
	cs := cluster(t, node("agent-1"))
	res := steps(t, cs, "agent-1", true, Cordoned)
	want := "record in kube-system/cnimigrate-state that node agent-1 was not cordoned before the migration,cordon node agent-1"
	if strings.Join(res.Plan, ",") != want {
		t.Fatalf("plan %v, want %q", res.Plan, want)
	}
	_, err := cs.CoreV1().ConfigMaps(defaults.MigrationStateNamespace).Get(context.Background(), defaults.MigrationStateConfigMap, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) || getNodeT(t, cs, "agent-1").Spec.Unschedulable {
		t.Fatalf("check mode changed the cluster (state ConfigMap: %v)", err)
	}
}
