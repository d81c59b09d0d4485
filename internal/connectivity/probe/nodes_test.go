package probe

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// A live migration checks each node right after moving it, while it is still cordoned: probe pods
// that tolerate the cordon (or every taint) must be able to go there; others are told why not.
func TestCordonedNodeUsableOnlyWhenTolerated(t *testing.T) {
	n := &corev1.Node{Spec: corev1.NodeSpec{Unschedulable: true,
		Taints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	if why := unusable(n, nil); !strings.Contains(why, "cordoned") {
		t.Errorf("no tolerations: %q, want it left out as cordoned", why)
	}
	cordonOnly := []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	if why := unusable(n, cordonOnly); !strings.Contains(why, "control-plane") {
		t.Errorf("cordon tolerated: %q, want it left out for the control-plane taint", why)
	}
	if why := unusable(n, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}); why != "" {
		t.Errorf("every taint tolerated: %q, want the node usable", why)
	}
}
