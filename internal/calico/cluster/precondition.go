package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ciliumReady checks that the replacement CNI runs everywhere: the Cilium agent DaemonSet is fully
// rolled out (current generation observed, every pod updated, ready and available) and every node
// has a ready agent pod. It returns why not, naming the nodes without one.
func ciliumReady(ctx context.Context, kube kubernetes.Interface, ns, name string) error {
	ds, err := kube.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("the Cilium agent DaemonSet %s/%s does not exist", ns, name)
	}
	if err != nil {
		return fmt.Errorf("get the Cilium agent DaemonSet %s/%s: %w", ns, name, err)
	}
	st := ds.Status
	var problems []string
	if st.ObservedGeneration < ds.Generation {
		problems = append(problems, "its latest change is not rolled out yet")
	}
	if st.DesiredNumberScheduled == 0 {
		problems = append(problems, "it schedules no pods")
	}
	for _, c := range []struct {
		what string
		n    int32
	}{{"updated", st.UpdatedNumberScheduled}, {"ready", st.NumberReady}, {"available", st.NumberAvailable}} {
		if c.n != st.DesiredNumberScheduled {
			problems = append(problems, fmt.Sprintf("%d/%d pods %s", c.n, st.DesiredNumberScheduled, c.what))
		}
	}
	missing, err := nodesWithoutReadyPod(ctx, kube, ns, ds.Spec.Selector)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		problems = append(problems, "no ready agent on node "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("the Cilium agent DaemonSet %s/%s is not ready on every node: %s", ns, name, strings.Join(problems, "; "))
	}
	return nil
}

func nodesWithoutReadyPod(ctx context.Context, kube kubernetes.Interface, ns string, sel *metav1.LabelSelector) ([]string, error) {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("Cilium agent selector: %w", err)
	}
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, fmt.Errorf("list Cilium agent pods: %w", err)
	}
	ready := map[string]bool{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && podReady(&p) {
			ready[p.Spec.NodeName] = true
		}
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var missing []string
	for _, n := range nodes.Items {
		if !ready[n.Name] {
			missing = append(missing, n.Name)
		}
	}
	sort.Strings(missing)
	return missing, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
