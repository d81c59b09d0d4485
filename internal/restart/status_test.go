package restart

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The rollout checks follow `kubectl rollout status` (k8s.io/kubectl/pkg/polymorphichelpers).
func TestRolloutStatus(t *testing.T) {
	dep := func(gen, observed int64, replicas, updated, total, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: gen}, Spec: appsv1.DeploymentSpec{Replicas: &replicas},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, UpdatedReplicas: updated, Replicas: total,
				AvailableReplicas: available, Conditions: conds}}
	}
	sts := func(gen, observed int64, ready, updated int32, current, update string, partition *int32) *appsv1.StatefulSet {
		r := int32(2)
		s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Generation: gen}, Spec: appsv1.StatefulSetSpec{Replicas: &r,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: observed, ReadyReplicas: ready, UpdatedReplicas: updated,
				CurrentRevision: current, UpdateRevision: update}}
		if partition != nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: partition}
		}
		return s
	}
	ds := func(gen, observed int64, desired, updated, available int32) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Generation: gen}, Status: appsv1.DaemonSetStatus{
			ObservedGeneration: observed, DesiredNumberScheduled: desired, UpdatedNumberScheduled: updated, NumberAvailable: available}}
	}
	deadline := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet x has timed out progressing."}
	cases := []struct {
		name   string
		obj    any
		minGen int64
		done   bool
		msg    string // substring of the message, or of the error when wantErr
		err    bool
	}{
		{"deployment complete", dep(2, 2, 2, 2, 2, 2), 2, true, "2 of 2", false},
		{"deployment patch not observed", dep(2, 1, 2, 2, 2, 2), 2, false, "observe", false},
		{"cache older than the patch", dep(1, 1, 2, 2, 2, 2), 2, false, "observe", false},
		{"deployment updating", dep(2, 2, 2, 1, 3, 2), 2, false, "1 of 2 new replicas updated", false},
		{"deployment old replicas left", dep(2, 2, 2, 2, 3, 2), 2, false, "1 old replicas pending termination", false},
		{"deployment not available", dep(2, 2, 2, 2, 2, 1), 2, false, "1 of 2 updated replicas available", false},
		{"deployment deadline exceeded", dep(2, 2, 2, 1, 3, 2, deadline), 2, false, "progress deadline", true},
		{"statefulset complete", sts(2, 2, 2, 2, "b", "b", nil), 2, true, "revision b", false},
		{"statefulset revisions differ", sts(2, 2, 2, 2, "a", "b", nil), 2, false, "rolling update in progress", false},
		{"statefulset not ready", sts(2, 2, 1, 1, "a", "b", nil), 2, false, "1 of 2 pods ready", false},
		{"statefulset partition done", sts(2, 2, 2, 1, "a", "b", ptr(int32(1))), 2, true, "partitioned", false},
		{"daemonset complete", ds(3, 3, 3, 3, 3), 3, true, "3 of 3", false},
		{"daemonset updating", ds(3, 3, 3, 2, 3), 3, false, "2 of 3 new pods", false},
		{"daemonset not available", ds(3, 3, 3, 3, 2), 3, false, "2 of 3 updated pods available", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done, msg, err := rolloutStatus(tc.obj, tc.minGen)
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.msg)
				}
				return
			}
			if err != nil || done != tc.done || !strings.Contains(msg, tc.msg) {
				t.Errorf("got done=%v msg=%q err=%v; want done=%v msg containing %q", done, msg, err, tc.done, tc.msg)
			}
		})
	}
}
