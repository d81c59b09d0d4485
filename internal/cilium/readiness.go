package cilium

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// Readiness summarizes the agents: DaemonSet counts and the nodes without a ready, up-to-date agent.
type Readiness struct {
	Desired       int      `json:"desired"`
	Ready         int      `json:"ready"`
	NotReadyNodes []string `json:"not_ready_nodes"`
}

// requiredCRDs are the CRDs every Cilium agent needs (registered by cilium-operator at start).
var requiredCRDs = []string{
	"ciliumnodes.cilium.io", "ciliumendpoints.cilium.io", "ciliumidentities.cilium.io",
	"ciliumnetworkpolicies.cilium.io", "ciliumclusterwidenetworkpolicies.cilium.io",
}

// readinessCheck observes Cilium's readiness once; problems is empty when everything holds.
type readinessCheck struct {
	kube        kubernetes.Interface
	dyn         dynamic.Interface
	namespace   string
	crds        []string
	operator    bool
	established map[string]bool // CRDs once seen established (they stay so)
}

type observation struct {
	readiness Readiness
	problems  []string
}

func (c *readinessCheck) observe(ctx context.Context) (observation, error) {
	var obs observation
	r, p, err := agentReadiness(ctx, c.kube, c.namespace)
	if err != nil {
		return obs, err
	}
	obs.readiness = r
	if p != "" {
		obs.problems = append(obs.problems, p)
	}
	if c.operator {
		p, err := operatorProblem(ctx, c.kube, c.namespace)
		if err != nil {
			return obs, err
		}
		if p != "" {
			obs.problems = append(obs.problems, p)
		}
	}
	p, err = c.crdProblem(ctx)
	if err != nil {
		return obs, err
	}
	if p != "" {
		obs.problems = append(obs.problems, p)
	}
	return obs, nil
}

func (c *readinessCheck) crdProblem(ctx context.Context) (string, error) {
	if c.established == nil {
		c.established = map[string]bool{}
	}
	var missing, pending []string
	for _, name := range c.crds {
		if c.established[name] {
			continue
		}
		est, served, err := crdState(ctx, c.dyn, name)
		switch {
		case err != nil:
			return "", err
		case served == nil:
			missing = append(missing, name)
		case !est:
			pending = append(pending, name)
		default:
			c.established[name] = true
		}
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "CRDs not registered (by cilium-operator): "+strings.Join(missing, ", "))
	}
	if len(pending) > 0 {
		parts = append(parts, "CRDs not established: "+strings.Join(pending, ", "))
	}
	return strings.Join(parts, "; "), nil
}

// agentReadiness checks the agent DaemonSet: rolled out (observed generation, every scheduled pod
// updated and ready) and which eligible nodes lack a ready agent of the current revision.
func agentReadiness(ctx context.Context, kube kubernetes.Interface, ns string) (Readiness, string, error) {
	r := Readiness{NotReadyNodes: []string{}}
	ds, err := kube.AppsV1().DaemonSets(ns).Get(ctx, defaults.CiliumAgentDaemonSet, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return r, fmt.Sprintf("agent DaemonSet %s/%s not found", ns, defaults.CiliumAgentDaemonSet), nil
	}
	if err != nil {
		return r, "", fmt.Errorf("read DaemonSet %s/%s: %w", ns, defaults.CiliumAgentDaemonSet, err)
	}
	st := ds.Status
	r.Desired, r.Ready = int(st.DesiredNumberScheduled), int(st.NumberReady)
	nodes, err := nodesWithoutAgent(ctx, kube, ds)
	if err != nil {
		return r, "", err
	}
	r.NotReadyNodes = nodes
	if rolledOut(ds) && len(nodes) == 0 {
		return r, "", nil
	}
	msg := fmt.Sprintf("agents (DaemonSet %s/%s): %d/%d ready, %d/%d updated", ns, ds.Name,
		st.NumberReady, st.DesiredNumberScheduled, st.UpdatedNumberScheduled, st.DesiredNumberScheduled)
	if st.ObservedGeneration < ds.Generation {
		msg += ", new generation not yet observed"
	}
	if len(nodes) > 0 {
		msg += "; no ready agent on node(s): " + strings.Join(nodes, ", ")
	}
	return r, msg, nil
}

// rolledOut: the DaemonSet's current generation is observed and every scheduled pod is updated,
// ready and available.
func rolledOut(ds *appsv1.DaemonSet) bool {
	st := ds.Status
	return st.ObservedGeneration >= ds.Generation && st.UpdatedNumberScheduled == st.DesiredNumberScheduled &&
		st.NumberReady == st.DesiredNumberScheduled && st.NumberAvailable == st.DesiredNumberScheduled
}

// nodesWithoutAgent lists the nodes the DaemonSet targets (its nodeSelector; Cilium tolerates every
// taint) that have no ready, non-terminating agent pod of the DaemonSet's current revision.
func nodesWithoutAgent(ctx context.Context, kube kubernetes.Interface, ds *appsv1.DaemonSet) ([]string, error) {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("DaemonSet %s selector: %w", ds.Name, err)
	}
	pods, err := kube.CoreV1().Pods(ds.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list agent pods: %w", err)
	}
	current, err := currentRevisionHash(ctx, kube, ds, sel)
	if err != nil {
		return nil, err
	}
	good := map[string]bool{}
	for _, p := range pods.Items {
		hash := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
		if p.DeletionTimestamp == nil && podReady(&p) && (current == "" || hash == current) {
			good[p.Spec.NodeName] = true
		}
	}
	nodeSel := labels.SelectorFromSet(ds.Spec.Template.Spec.NodeSelector)
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: nodeSel.String()})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	out := []string{}
	for _, n := range nodes.Items {
		if !good[n.Name] {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// currentRevisionHash is the controller-revision-hash of the DaemonSet's newest ControllerRevision;
// "" when it cannot be told (then any ready pod counts).
func currentRevisionHash(ctx context.Context, kube kubernetes.Interface, ds *appsv1.DaemonSet, sel labels.Selector) (string, error) {
	revs, err := kube.AppsV1().ControllerRevisions(ds.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return "", fmt.Errorf("list ControllerRevisions of DaemonSet %s: %w", ds.Name, err)
	}
	var best *appsv1.ControllerRevision
	for i := range revs.Items {
		rev := &revs.Items[i]
		if !metav1.IsControlledBy(rev, ds) {
			continue
		}
		if best == nil || rev.Revision > best.Revision {
			best = rev
		}
	}
	if best == nil {
		return "", nil
	}
	return best.Labels[appsv1.DefaultDaemonSetUniqueLabelKey], nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// operatorProblem checks that the operator Deployment rolled out and is available.
func operatorProblem(ctx context.Context, kube kubernetes.Interface, ns string) (string, error) {
	d, err := kube.AppsV1().Deployments(ns).Get(ctx, defaults.CiliumOperatorName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("operator Deployment %s/%s not found", ns, defaults.CiliumOperatorName), nil
	}
	if err != nil {
		return "", fmt.Errorf("read Deployment %s/%s: %w", ns, defaults.CiliumOperatorName, err)
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	if st.ObservedGeneration >= d.Generation && st.UpdatedReplicas >= want && st.AvailableReplicas >= want &&
		st.Replicas == st.UpdatedReplicas {
		return "", nil
	}
	return fmt.Sprintf("operator (Deployment %s/%s): %d/%d available, %d/%d updated", ns, d.Name,
		st.AvailableReplicas, want, st.UpdatedReplicas, want), nil
}

// waitReady waits until the CRDs are established, the agents ready on every node and the operator
// available. The timeout error names what was not met and the nodes without a ready agent.
func waitReady(ctx context.Context, c *readinessCheck, timeout time.Duration) error {
	what := "Cilium to become ready (CRDs established, agent ready on every node, operator available)"
	return wait.For(ctx, what, timeout, 0, func(ctx context.Context) (bool, string, error) {
		obs, err := c.observe(ctx)
		if err != nil {
			return false, "", err
		}
		return len(obs.problems) == 0, strings.Join(obs.problems, "; "), nil
	})
}
