package nodemigrate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// podsOnNode lists the pods bound to the node.
func podsOnNode(ctx context.Context, kube kubernetes.Interface, node, namespace, selector string) ([]corev1.Pod, error) {
	list, err := kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String(), LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods on node %s: %w", node, err)
	}
	out := list.Items[:0]
	for _, p := range list.Items {
		if p.Spec.NodeName == node { // fakes ignore field selectors
			out = append(out, p)
		}
	}
	return out, nil
}

func podRef(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// classify splits the node's pods into those to evict, those to wait for (already terminating)
// and those left alone, with the reason.
func classify(pods []corev1.Pod, bare string) (evict, terminating []corev1.Pod, skipped []Skip, bareFound []string) {
	for _, p := range pods {
		ctrl := metav1.GetControllerOf(&p)
		switch {
		case p.DeletionTimestamp != nil:
			terminating = append(terminating, p)
		case p.Annotations[defaults.MirrorPodAnnotation] != "":
			skipped = append(skipped, Skip{podRef(&p), "mirror pod (managed by the kubelet)"})
		case ctrl != nil && ctrl.Kind == "DaemonSet":
			skipped = append(skipped, Skip{podRef(&p), "DaemonSet pod"})
		case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
			skipped = append(skipped, Skip{podRef(&p), "finished (" + string(p.Status.Phase) + ")"})
		case ctrl == nil && bare == BareSkip:
			skipped = append(skipped, Skip{podRef(&p), "no controller (bare_pods=skip): keeps its old-CNI address"})
		case ctrl == nil && bare == BareFail:
			bareFound = append(bareFound, podRef(&p))
		default:
			evict = append(evict, p)
		}
	}
	return evict, terminating, skipped, bareFound
}

func drain(ctx context.Context, kube kubernetes.Interface, node *corev1.Node, p Parameters, res *Result, checkOnly bool) error {
	pods, err := podsOnNode(ctx, kube, node.Name, "", "")
	if err != nil {
		return err
	}
	evict, terminating, skipped, bare := classify(pods, p.BarePods)
	res.Kept = append(res.Kept, skipped...)
	for _, s := range skipped {
		if strings.HasPrefix(s.Reason, "no controller") {
			res.Warnings = append(res.Warnings, fmt.Sprintf("pod %s stays on node %s: %s", s.Pod, node.Name, s.Reason))
		}
	}
	if len(bare) > 0 {
		return fmt.Errorf("node %s runs pods that no controller would recreate: %s; nothing was changed. "+
			"Set bare_pods=evict to evict them (they are gone for good) or bare_pods=skip to leave them "+
			"(they keep their old-CNI address)", node.Name, strings.Join(bare, ", "))
	}
	if err := cordon(ctx, kube, node, p, res, checkOnly); err != nil {
		return err
	}
	res.Before = drainSummary(node.Name, node.Spec.Unschedulable, append(evict, terminating...))
	res.After = drainSummary(node.Name, true, nil)
	for i := range evict {
		res.Plan = append(res.Plan, "evict pod "+podRef(&evict[i]))
	}
	if checkOnly || len(evict)+len(terminating) == 0 {
		return nil
	}
	return evictAll(ctx, kube, node.Name, evict, terminating, p, res)
}

func drainSummary(node string, unschedulable bool, pods []corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "node: %s\nunschedulable: %t\npods to move:", node, unschedulable)
	if len(pods) == 0 {
		b.WriteString(" []\n")
		return b.String()
	}
	b.WriteString("\n")
	for i := range pods {
		fmt.Fprintf(&b, "  - %s\n", podRef(&pods[i]))
	}
	return b.String()
}

func labelPatch(l map[string]string) ([]byte, error) {
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": l}})
	if err != nil {
		return nil, fmt.Errorf("encode label patch: %w", err)
	}
	return b, nil
}

func sortedBlocks(m map[string]Block) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}
