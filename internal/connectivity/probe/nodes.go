package probe

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// nodeSet is where probe pods go.
type nodeSet struct {
	Names    []string // eligible nodes, sorted
	Excluded []string // "node (reason)" for nodes the selector matched but probes cannot use
	// Fake is set when every eligible node is a kwok fake node: exec there cannot run tools.
	Fake bool
}

// selectNodes returns the nodes that match the selector, are Ready, schedulable, and whose
// NoSchedule/NoExecute taints the tolerations tolerate. No match is an input error.
func selectNodes(ctx context.Context, cfg Config) (nodeSet, error) {
	sel := labels.SelectorFromSet(cfg.NodeSelector).String()
	list, err := cfg.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nodeSet{}, fmt.Errorf("list nodes for probe pods: %w", err)
	}
	if len(list.Items) == 0 {
		return nodeSet{}, fmt.Errorf("node_selector %s matches no node", describeSelector(cfg.NodeSelector))
	}
	var set nodeSet
	var fake, real []string
	for i := range list.Items {
		n := &list.Items[i]
		if why := unusable(n, cfg.Tolerations); why != "" {
			set.Excluded = append(set.Excluded, fmt.Sprintf("%s (%s)", n.Name, why))
			continue
		}
		if n.Annotations[defaults.KwokNodeAnnotation] == "fake" {
			fake = append(fake, n.Name)
		} else {
			real = append(real, n.Name)
		}
	}
	switch {
	case len(real) > 0:
		set.Names = real
		for _, f := range fake {
			set.Excluded = append(set.Excluded, f+" (kwok fake node: exec cannot run tools there)")
		}
	case len(fake) > 0:
		set.Names, set.Fake = fake, true
	default:
		return set, fmt.Errorf("no node matching node_selector %s can take probe pods: %s",
			describeSelector(cfg.NodeSelector), strings.Join(set.Excluded, ", "))
	}
	sort.Strings(set.Names)
	sort.Strings(set.Excluded)
	return set, nil
}

func describeSelector(sel map[string]string) string {
	if len(sel) == 0 {
		return "{} (all nodes)"
	}
	return "{" + labels.SelectorFromSet(sel).String() + "}"
}

// unusable says why probe pods cannot run on n, or "".
func unusable(n *corev1.Node, tolerations []corev1.Toleration) string {
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	switch {
	case !ready:
		return "NotReady"
	case n.Spec.Unschedulable && !tolerated(&corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}, tolerations):
		// The scheduler treats a cordon as this taint: tolerating it probes the node anyway (the
		// node a live migration has just moved is still cordoned when it is checked).
		return "cordoned; tolerate " + corev1.TaintNodeUnschedulable + " to probe it"
	}
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule || tolerated(t, tolerations) {
			continue
		}
		return "taint " + t.ToString() + " not tolerated; add it to tolerations"
	}
	return ""
}

func tolerated(t *corev1.Taint, tolerations []corev1.Toleration) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(logr.Discard(), t, false) {
			return true
		}
	}
	return false
}
