package health

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// agentLocation is where a CNI's agent DaemonSet lives (manifest and operator installs differ).
type agentLocation struct{ namespace, name string }

var agentLocations = map[string][]agentLocation{
	CNICalico: {{defaults.CalicoNamespace, defaults.CalicoNodeDaemonSet}, {defaults.CalicoSystemNamespace, defaults.CalicoNodeDaemonSet}},
	CNICilium: {{defaults.CiliumNamespace, defaults.CiliumAgentDaemonSet}},
}

// agentSet maps a CNI name to its agent DaemonSet; a named CNI whose DaemonSet is missing maps to nil.
type agentSet map[string]*appsv1.DaemonSet

func (a agentSet) names() []string {
	var out []string
	for n := range a {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ciliumOnly reports whether Cilium is the cluster's only CNI (so every pod must be its).
func (a agentSet) ciliumOnly() bool {
	_, cilium := a[CNICilium]
	return cilium && len(a) == 1
}

// findAgents looks up the agent DaemonSets: the named CNI's (nil entry when missing), or with auto
// every CNI whose DaemonSet exists.
func findAgents(ctx context.Context, kube kubernetes.Interface, cni string) (agentSet, error) {
	wanted := []string{CNICalico, CNICilium}
	if cni != CNIAuto && cni != "" {
		wanted = []string{cni}
	}
	set := agentSet{}
	for _, name := range wanted {
		ds, err := findAgent(ctx, kube, name)
		if err != nil {
			return nil, err
		}
		if ds != nil || cni == name {
			set[name] = ds
		}
	}
	return set, nil
}

func findAgent(ctx context.Context, kube kubernetes.Interface, cni string) (*appsv1.DaemonSet, error) {
	for _, loc := range agentLocations[cni] {
		ds, err := kube.AppsV1().DaemonSets(loc.namespace).Get(ctx, loc.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get DaemonSet %s/%s: %w", loc.namespace, loc.name, err)
		}
		return ds, nil
	}
	return nil, nil
}

func lookedFor(cni string) string {
	var where []string
	for _, loc := range agentLocations[cni] {
		where = append(where, loc.namespace+"/"+loc.name)
	}
	return strings.Join(where, " or ")
}

// checkAgents checks each agent DaemonSet; with auto and no agent at all, that is the failure.
func checkAgents(ctx context.Context, cfg Config, agents agentSet, nodes []corev1.Node) []result.Entry {
	if len(agents) == 0 {
		return []result.Entry{failed(entry(CheckAgents), fmt.Sprintf("no CNI agent DaemonSet found (looked for %s and %s)",
			lookedFor(CNICalico), lookedFor(CNICilium)))}
	}
	var out []result.Entry
	for _, name := range agents.names() {
		e := entry(CheckAgents + "/" + name)
		ds := agents[name]
		if ds == nil {
			out = append(out, failed(e, fmt.Sprintf("cni is %s but DaemonSet %s does not exist", name, lookedFor(name))))
			continue
		}
		out = append(out, checkAgent(ctx, cfg.Kube, e, ds, nodes))
	}
	return out
}

// checkAgent passes when the DaemonSet's rollout is complete and every node runs a ready agent pod.
func checkAgent(ctx context.Context, kube kubernetes.Interface, e result.Entry, ds *appsv1.DaemonSet, nodes []corev1.Node) result.Entry {
	st := ds.Status
	e.Observed = fmt.Sprintf("DaemonSet %s/%s: %d desired, %d updated, %d ready, %d available",
		ds.Namespace, ds.Name, st.DesiredNumberScheduled, st.UpdatedNumberScheduled, st.NumberReady, st.NumberAvailable)
	var problems []string
	if st.ObservedGeneration < ds.Generation {
		problems = append(problems, fmt.Sprintf("rollout not yet observed (generation %d, observed %d)", ds.Generation, st.ObservedGeneration))
	}
	if st.UpdatedNumberScheduled < st.DesiredNumberScheduled {
		problems = append(problems, fmt.Sprintf("rollout in progress: %d/%d pods updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled))
	}
	if st.NumberReady < st.DesiredNumberScheduled || st.NumberAvailable < st.DesiredNumberScheduled {
		problems = append(problems, fmt.Sprintf("%d/%d pods ready", st.NumberReady, st.DesiredNumberScheduled))
	}
	missing, err := nodesWithoutReadyAgent(ctx, kube, ds, nodes)
	if err != nil {
		return failed(e, err.Error())
	}
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = strings.SplitN(m, " ", 2)[0]
		}
		problems = append(problems, fmt.Sprintf("no ready %s pod on %d/%d nodes: %s", ds.Name, len(missing), len(nodes),
			strings.Join(limit(names, 20), ", ")))
		e.Details = missing
	}
	e.Observed += fmt.Sprintf("; ready on %d/%d nodes", len(nodes)-len(missing), len(nodes))
	if len(problems) > 0 {
		return failed(e, strings.Join(problems, "; "))
	}
	return e
}

// nodesWithoutReadyAgent lists "node (why)" for every node that has no ready pod of ds.
func nodesWithoutReadyAgent(ctx context.Context, kube kubernetes.Interface, ds *appsv1.DaemonSet, nodes []corev1.Node) ([]string, error) {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("DaemonSet %s/%s selector: %w", ds.Namespace, ds.Name, err)
	}
	pods, err := kube.CoreV1().Pods(ds.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list %s pods: %w", ds.Name, err)
	}
	state := map[string]string{} // node → why its agent is not ready; "" = ready
	for i := range pods.Items {
		p := &pods.Items[i]
		if !ownedBy(p, ds) || p.Spec.NodeName == "" {
			continue
		}
		if podReady(p) {
			state[p.Spec.NodeName] = ""
		} else if s, seen := state[p.Spec.NodeName]; !seen || s != "" {
			state[p.Spec.NodeName] = fmt.Sprintf("pod %s not ready: %s", p.Name, podPhase(p))
		}
	}
	var out []string
	for _, n := range nodes {
		why, seen := state[n.Name]
		switch {
		case !seen:
			out = append(out, fmt.Sprintf("%s (no %s pod scheduled there)", n.Name, ds.Name))
		case why != "":
			out = append(out, fmt.Sprintf("%s (%s)", n.Name, why))
		}
	}
	sort.Strings(out)
	return out, nil
}

func ownedBy(p *corev1.Pod, ds *appsv1.DaemonSet) bool {
	for _, o := range p.OwnerReferences {
		if o.UID == ds.UID {
			return true
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podPhase is the phase plus the first container's waiting reason, as kubectl get pods shows it.
func podPhase(p *corev1.Pod) string {
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return string(p.Status.Phase) + ", " + w.Reason
		}
	}
	return string(p.Status.Phase)
}
