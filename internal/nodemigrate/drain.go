package nodemigrate

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
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
	if err := setUnschedulable(ctx, kube, node, true, res, checkOnly); err != nil {
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

// evictAll evicts every pod (retrying those a PDB protects) until all of them, and the pods
// already terminating, are gone from the node, or the timeout passes naming what blocks.
func evictAll(ctx context.Context, kube kubernetes.Interface, node string, evict, terminating []corev1.Pod, p Parameters, res *Result) error {
	pending := map[types.UID]corev1.Pod{}
	for _, pod := range evict {
		pending[pod.UID] = pod
	}
	waitFor := map[types.UID]string{}
	for _, pod := range terminating {
		waitFor[pod.UID] = podRef(&pod)
	}
	var fatal error
	blocked := map[string]Block{}
	cond := func(ctx context.Context) (bool, string, error) {
		for uid, pod := range pending {
			b, err := evictOne(ctx, kube, &pod)
			switch {
			case err != nil:
				fatal = err
				return true, "", nil
			case b != nil:
				blocked[b.Pod] = *b
			default:
				delete(pending, uid)
				delete(blocked, podRef(&pod))
				res.Evicted = append(res.Evicted, podRef(&pod))
				waitFor[uid] = podRef(&pod)
			}
		}
		gone, err := stillOnNode(ctx, kube, node, waitFor)
		if err != nil {
			return false, "", err
		}
		return len(pending) == 0 && gone, drainObserved(len(evict), pending, blocked, waitFor), nil
	}
	what := fmt.Sprintf("node %s to drain (%d pods to evict)", node, len(evict))
	err := wait.For(ctx, what, p.Timeout, 0, cond)
	for _, k := range sortedBlocks(blocked) {
		res.Blocked = append(res.Blocked, blocked[k])
	}
	if fatal != nil {
		return fatal
	}
	return err
}

// evictOne asks the API server to evict a pod. A PDB refusal (429) is returned as a Block naming
// the budget; a pod already gone counts as evicted; anything else is a failure.
func evictOne(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod) (*Block, error) {
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}}}
	err := kube.PolicyV1().Evictions(pod.Namespace).Evict(ctx, ev)
	switch {
	case err == nil, apierrors.IsNotFound(err), apierrors.IsConflict(err):
		// Conflict: the UID precondition failed, a new pod took the name; ours is gone.
		return nil, nil
	case apierrors.IsTooManyRequests(err):
		return blockingPDB(ctx, kube, pod, err), nil
	}
	return nil, fmt.Errorf("evict pod %s: %w", podRef(pod), err)
}

// blockingPDB names the PodDisruptionBudgets that select the pod.
func blockingPDB(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod, evictErr error) *Block {
	b := &Block{Pod: podRef(pod), Reason: evictErr.Error()}
	list, err := kube.PolicyV1().PodDisruptionBudgets(pod.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return b
	}
	var names []string
	for _, pdb := range list.Items {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		names = append(names, fmt.Sprintf("%s/%s (%d disruptions allowed, %d/%d healthy)", pdb.Namespace, pdb.Name,
			pdb.Status.DisruptionsAllowed, pdb.Status.CurrentHealthy, pdb.Status.DesiredHealthy))
	}
	b.PDB = strings.Join(names, ", ")
	return b
}

// stillOnNode drops from waitFor the pods no longer on the node and reports whether none is left.
func stillOnNode(ctx context.Context, kube kubernetes.Interface, node string, waitFor map[types.UID]string) (bool, error) {
	if len(waitFor) == 0 {
		return true, nil
	}
	pods, err := podsOnNode(ctx, kube, node, "", "")
	if err != nil {
		return false, err
	}
	present := map[types.UID]bool{}
	for _, p := range pods {
		present[p.UID] = true
	}
	for uid := range waitFor {
		if !present[uid] {
			delete(waitFor, uid)
		}
	}
	return len(waitFor) == 0, nil
}

func drainObserved(total int, pending map[types.UID]corev1.Pod, blocked map[string]Block, terminating map[types.UID]string) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("%d/%d pods evicted", total-len(pending), total))
	for _, k := range sortedBlocks(blocked) {
		b := blocked[k]
		if b.PDB != "" {
			parts = append(parts, fmt.Sprintf("%s blocked by PodDisruptionBudget %s", b.Pod, b.PDB))
		} else {
			parts = append(parts, fmt.Sprintf("%s refused: %s", b.Pod, b.Reason))
		}
	}
	if len(terminating) > 0 {
		var names []string
		for _, n := range terminating {
			names = append(names, n)
		}
		parts = append(parts, "still terminating: "+strings.Join(sorted(names), ", "))
	}
	return strings.Join(parts, "; ")
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
