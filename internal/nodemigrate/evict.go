package nodemigrate

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// retry is a pod still to evict and when to try it next.
type retry struct {
	pod   corev1.Pod
	next  time.Time
	delay time.Duration
}

// backOff schedules the next attempt: the delay doubles after each refusal, up to max.
func (r *retry) backOff(now time.Time, initial, max time.Duration) {
	if r.delay <= 0 {
		r.delay = initial
	}
	r.next = now.Add(r.delay)
	r.delay = min(2*r.delay, max)
}

// evictions is what a drain has left to do and what stands in its way.
type evictions struct {
	total   int
	pending map[types.UID]*retry
	waitFor map[types.UID]string // evicted or terminating pods still on the node
	blocked map[string]Block     // pod → the PodDisruptionBudget refusal
	failing map[string]string    // pod → the last transient API error
}

// evictAll evicts every pod until all of them, and the pods already terminating, are gone from the
// node, or the timeout passes naming what blocks. A refusal by a PodDisruptionBudget (429) and a
// transient API error (5xx, a timeout, a lost connection) are retried within the timeout, each pod
// on its own backoff; any other error stops the drain.
func evictAll(ctx context.Context, kube kubernetes.Interface, node string, evict, terminating []corev1.Pod, p Parameters, res *Result) error {
	e := &evictions{total: len(evict), pending: map[types.UID]*retry{}, waitFor: map[types.UID]string{},
		blocked: map[string]Block{}, failing: map[string]string{}}
	for _, pod := range evict {
		e.pending[pod.UID] = &retry{pod: pod}
	}
	for _, pod := range terminating {
		e.waitFor[pod.UID] = podRef(&pod)
	}
	var fatal error
	cond := func(ctx context.Context) (bool, string, error) {
		if err := e.attempt(ctx, kube, p, res); err != nil {
			fatal = err
			return true, "", nil
		}
		gone, err := stillOnNode(ctx, kube, node, e.waitFor)
		if err != nil {
			return false, e.observed(), err
		}
		return len(e.pending) == 0 && gone, e.observed(), nil
	}
	what := fmt.Sprintf("node %s to drain (%d pods to evict)", node, len(evict))
	err := wait.For(ctx, what, p.Timeout, 0, cond)
	for _, k := range sortedBlocks(e.blocked) {
		res.Blocked = append(res.Blocked, e.blocked[k])
	}
	if fatal != nil {
		return fatal
	}
	return err
}

// attempt evicts the pending pods whose turn has come. It returns only errors that are not worth
// retrying.
func (e *evictions) attempt(ctx context.Context, kube kubernetes.Interface, p Parameters, res *Result) error {
	now := time.Now()
	for uid, r := range e.pending {
		if now.Before(r.next) {
			continue
		}
		ref := podRef(&r.pod)
		b, err := evictOne(ctx, kube, &r.pod)
		switch {
		case err != nil && !k8s.IsTransient(err):
			return err
		case err != nil:
			e.failing[ref] = err.Error()
			r.backOff(now, p.RetryInitial, p.RetryMax)
		case b != nil:
			e.blocked[ref] = *b
			delete(e.failing, ref)
			r.backOff(now, p.RetryInitial, p.RetryMax)
		default:
			delete(e.pending, uid)
			delete(e.blocked, ref)
			delete(e.failing, ref)
			res.Evicted = append(res.Evicted, ref)
			e.waitFor[uid] = ref
		}
	}
	return nil
}

// evictOne asks the API server to evict a pod. A PDB refusal (429) is returned as a Block naming
// the budget; a pod already gone counts as evicted; anything else is an error naming the pod.
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

// observed says how far the drain got and what holds it up (the timeout message).
func (e *evictions) observed() string {
	var parts []string
	parts = append(parts, fmt.Sprintf("%d/%d pods evicted", e.total-len(e.pending), e.total))
	for _, k := range sortedBlocks(e.blocked) {
		b := e.blocked[k]
		if b.PDB != "" {
			parts = append(parts, fmt.Sprintf("%s blocked by PodDisruptionBudget %s", b.Pod, b.PDB))
		} else {
			parts = append(parts, fmt.Sprintf("%s refused: %s", b.Pod, b.Reason))
		}
	}
	for _, pod := range sortedKeys(e.failing) {
		parts = append(parts, fmt.Sprintf("eviction of %s keeps failing: %s", pod, e.failing[pod]))
	}
	if len(e.waitFor) > 0 {
		var names []string
		for _, n := range e.waitFor {
			names = append(names, n)
		}
		parts = append(parts, "still terminating: "+strings.Join(sorted(names), ", "))
	}
	return strings.Join(parts, "; ")
}
