package restart

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

func labelSet(m map[string]string) labels.Set { return labels.Set(m) }

// Skip reasons shared with callers and tests.
const (
	ReasonHostNetwork = "hostNetwork: its pods use the node's network, not the CNI"
	ReasonExcluded    = "namespace excluded"
	ReasonNoPods      = "no running pods"
)

// Plan decides, from the watch caches, what to restart and what to skip, in execution order:
// the cluster DNS first, then kube-system, then every other namespace. It changes nothing.
func (s *Session) Plan() *Plan {
	pl := &Plan{Warnings: slices.Clone(s.warnings), Steps: []Step{}, Skipped: []Skip{}, BarePods: []BarePod{}, OtherPods: []BarePod{}}
	if s.managed != nil {
		pl.Managed = s.managed.describe(s.source)
		pl.TargetCIDRs = prefixStrings(s.managed.cidrs)
	}
	for _, kind := range Kinds {
		if !s.cfg.kinds[kind] {
			continue
		}
		for _, obj := range s.st.list(kind) {
			w := asWorkload(obj)
			if w == nil {
				continue
			}
			if !s.cfg.inScope(w.Namespace) {
				if s.cfg.allNamespaces() { // out of scope only through exclude_namespaces: say so
					pl.Skipped = append(pl.Skipped, Skip{Ref: w.Ref, Reason: ReasonExcluded})
				}
				continue
			}
			if step, skip := s.decide(w); step != nil {
				pl.Steps = append(pl.Steps, *step)
			} else {
				pl.Skipped = append(pl.Skipped, *skip)
			}
		}
	}
	sort.SliceStable(pl.Steps, func(i, j int) bool { return stepLess(&pl.Steps[i], &pl.Steps[j]) })
	sort.SliceStable(pl.Skipped, func(i, j int) bool { return refLess(pl.Skipped[i].Ref, pl.Skipped[j].Ref) })
	s.scanPods(pl)
	return pl
}

// decide returns a step for a workload whose pods need recreating, or why it is skipped.
func (s *Session) decide(w *workload) (*Step, *Skip) {
	if w.hostNetwork {
		return nil, &Skip{Ref: w.Ref, Reason: ReasonHostNetwork}
	}
	pods := livePods(s.st.podsOf(w))
	if len(pods) == 0 {
		return nil, &Skip{Ref: w.Ref, Reason: ReasonNoPods}
	}
	need, why, skipWhy := s.needs(pods)
	if len(need) == 0 {
		return nil, &Skip{Ref: w.Ref, Reason: skipWhy}
	}
	st := &Step{Ref: w.Ref, Action: ActionRestart, Reason: why, DNS: w.isDNS(), Pods: len(pods), w: w, oldest: need}
	switch {
	case w.evictReason != "":
		st.Action = ActionEvict
		st.Reason = fmt.Sprintf("%s; %s: pods are evicted one at a time (PodDisruptionBudgets honoured)", why, w.evictReason)
		for _, p := range need {
			st.Evict = append(st.Evict, p.Name)
		}
	case s.restartPending(w, need):
		st.Action = ActionWait
		st.Reason = fmt.Sprintf("%s; the restart requested at %s is still rolling out",
			why, w.restartedAt.UTC().Format(time.RFC3339))
	}
	return st, nil
}

// restartPending: an earlier run already requested a restart after these pods were created and
// the rollout has not finished, so restarting again would only start it over.
func (s *Session) restartPending(w *workload, need []podID) bool {
	if w.restartedAt.IsZero() {
		return false
	}
	for _, p := range need {
		if !p.Created.Before(w.restartedAt) {
			return false
		}
	}
	done, _, _ := rolloutStatus(w.obj, 0)
	return !done
}

// needs returns the pods that must be recreated under the strategy, the reason to restart, and the
// reason to skip when none must.
func (s *Session) needs(pods []*corev1.Pod) (need []podID, why, skipWhy string) {
	n := len(pods)
	switch s.cfg.Strategy {
	case StrategyAll:
		for _, p := range pods {
			need = append(need, idOf(p))
		}
		return need, "strategy all", ""
	case StrategyCreatedBefore:
		cut := s.cfg.cutoff.UTC().Format(time.RFC3339)
		for _, p := range pods {
			if p.CreationTimestamp.Time.Before(s.cfg.cutoff) {
				need = append(need, idOf(p))
			}
		}
		return need, fmt.Sprintf("%d/%d pods created before %s", len(need), n, cut),
			fmt.Sprintf("all %d pods created at or after %s", n, cut)
	}
	noAddr := 0
	for _, p := range pods {
		switch s.managed.state(p) {
		case stateUnmanaged:
			need = append(need, idOf(p))
		case stateNoAddress:
			noAddr++
		}
	}
	skipWhy = fmt.Sprintf("already managed: all %d pods are managed by %s", n, s.cfg.TargetCNI)
	if noAddr > 0 {
		skipWhy = fmt.Sprintf("already managed: %d of %d pods managed by %s, %d without an IP yet", n-noAddr, n, s.cfg.TargetCNI, noAddr)
	}
	return need, fmt.Sprintf("%d/%d pods not managed by %s", len(need), n, s.cfg.TargetCNI), skipWhy
}

// scanPods finds pods no workload kind of this run covers: bare pods (no controller), reported or
// evicted, and pods of other controllers (Jobs, operators), listed as skipped when they need
// recreating, so that nothing is left behind silently.
func (s *Session) scanPods(pl *Plan) {
	others := map[Ref][]*corev1.Pod{}
	for _, obj := range s.st.list(resPods) {
		p, ok := obj.(*corev1.Pod)
		if !ok || !live(p) || p.Spec.HostNetwork || !s.cfg.inScope(p.Namespace) || !s.cfg.selector.Matches(labelSet(p.Labels)) {
			continue
		}
		if _, mirror := p.Annotations[mirrorPodAnnotation]; mirror {
			continue
		}
		ctrl := metav1.GetControllerOfNoCopy(p)
		switch {
		case ctrl == nil:
			if need, why, _ := s.needs([]*corev1.Pod{p}); len(need) > 0 {
				pl.BarePods = append(pl.BarePods, s.barePod(p, why))
			}
		case s.covered(p.Namespace, ctrl):
		default:
			ref := Ref{Kind: ctrl.Kind, Namespace: p.Namespace, Name: ctrl.Name}
			others[ref] = append(others[ref], p)
		}
	}
	for ref, pods := range others {
		need, why, _ := s.needs(pods)
		if len(need) == 0 {
			continue
		}
		pl.Skipped = append(pl.Skipped, Skip{Ref: ref, Reason: fmt.Sprintf(
			"owned by a %s, which this module does not restart: %s", ref.Kind, why)})
		for _, id := range need {
			pl.OtherPods = append(pl.OtherPods, s.otherPod(ref, id, why))
		}
	}
	sort.SliceStable(pl.Skipped, func(i, j int) bool { return refLess(pl.Skipped[i].Ref, pl.Skipped[j].Ref) })
	for _, pods := range [][]BarePod{pl.BarePods, pl.OtherPods} {
		sort.Slice(pods, func(i, j int) bool {
			a, b := pods[i], pods[j]
			return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
		})
	}
}

// otherPod is a pod of a controller this module does not restart (a Job, an operator's custom
// controller): reported, or evicted with other_pods evict so that its controller recreates it.
func (s *Session) otherPod(owner Ref, id podID, why string) BarePod {
	op := BarePod{Namespace: id.Namespace, Name: id.Name, Owner: owner.Kind + "/" + owner.Name, uid: id.UID,
		Action: OtherPodsReport, Reason: "owned by " + owner.Kind + "/" + owner.Name + ", which this module does not restart: " +
			why + "; recreate it yourself, or set other_pods: evict"}
	if s.cfg.OtherPods == OtherPodsEvict {
		op.Action, op.Reason = ActionEvict, "owned by "+owner.Kind+"/"+owner.Name+": "+why+"; other_pods is evict, so it is evicted and its controller recreates it"
	}
	return op
}

func (s *Session) barePod(p *corev1.Pod, why string) BarePod {
	bp := BarePod{Namespace: p.Namespace, Name: p.Name, uid: p.UID, Action: BarePodsReport,
		Reason: "no controller owns it: " + why + "; recreate it yourself, or set bare_pods: delete"}
	if s.cfg.BarePods == BarePodsDelete {
		bp.Action, bp.Reason = ActionEvict, "no controller owns it: "+why+"; bare_pods is delete, so it is evicted and not recreated"
	}
	return bp
}

// covered reports whether a pod's controller is one of this run's workload kinds (a ReplicaSet
// counts when a Deployment controls it).
func (s *Session) covered(ns string, ctrl *metav1.OwnerReference) bool {
	switch ctrl.Kind {
	case KindStatefulSet, KindDaemonSet:
		return true // planned as a workload, or left out by kinds
	case resRS:
		if !s.cfg.kinds[KindDeployment] {
			return true // ReplicaSets are not watched: the user left Deployments out
		}
		rs, ok := s.st.get(resRS, ns, ctrl.Name).(metav1.Object)
		return ok && metav1.GetControllerOfNoCopy(rs) != nil
	}
	return false
}

var kindRank = map[string]int{KindDaemonSet: 0, KindDeployment: 1, KindStatefulSet: 2}

func stepLess(a, b *Step) bool {
	if a.DNS != b.DNS {
		return a.DNS
	}
	ak, bk := a.Namespace == metav1.NamespaceSystem, b.Namespace == metav1.NamespaceSystem
	if ak != bk {
		return ak
	}
	return refLess(a.Ref, b.Ref)
}

func refLess(a, b Ref) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Kind != b.Kind {
		return kindRank[a.Kind] < kindRank[b.Kind]
	}
	return a.Name < b.Name
}

// Diff renders the plan for Ansible's --diff: before, each workload with why it needs restarting;
// after, what the run does to it.
func (p *Plan) Diff() (before, after string) {
	var b, a strings.Builder
	for _, st := range p.Steps {
		fmt.Fprintf(&b, "%s: %s\n", st.Ref, st.Reason)
		fmt.Fprintf(&a, "%s: %s\n", st.Ref, actionText[st.Action])
	}
	for _, bp := range p.BarePods {
		if bp.Action == ActionEvict {
			fmt.Fprintf(&b, "Pod %s/%s: bare pod\n", bp.Namespace, bp.Name)
			fmt.Fprintf(&a, "Pod %s/%s: evicted, not recreated\n", bp.Namespace, bp.Name)
		}
	}
	for _, op := range p.OtherPods {
		if op.Action == ActionEvict {
			fmt.Fprintf(&b, "Pod %s/%s: owned by %s\n", op.Namespace, op.Name, op.Owner)
			fmt.Fprintf(&a, "Pod %s/%s: evicted, recreated by %s\n", op.Namespace, op.Name, op.Owner)
		}
	}
	return b.String(), a.String()
}

var actionText = map[string]string{
	ActionRestart: "restarted (pod template annotation " + defaults.RestartedAtAnnot + ")",
	ActionEvict:   "pods evicted one at a time and recreated by the controller",
	ActionWait:    "earlier restart waited for",
}
