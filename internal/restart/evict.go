package restart

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// evictAll evicts the step's pods one at a time, waiting after each until its controller has
// replaced it and the workload is back to its desired number of ready pods.
func (s *Session) evictAll(ctx context.Context, st *Step, res *Result) error {
	for _, id := range st.oldest {
		if p, ok := s.st.get(resPods, id.Namespace, id.Name).(*corev1.Pod); !ok || p.UID != id.UID {
			continue // already replaced
		}
		evicted, err := s.evict(ctx, id)
		res.changed = res.changed || evicted
		if err != nil {
			return err
		}
		if err := s.waitReplaced(ctx, st, id); err != nil {
			return err
		}
	}
	if !s.cfg.Wait {
		return nil
	}
	return s.waitReplaced(ctx, st, podID{})
}

// evict asks the Eviction API to evict one pod, retrying while a PodDisruptionBudget refuses (429)
// or the API server fails transiently (5xx, timeouts, lost connections) until ctx ends; a refusal
// that outlasts it names the budget. evicted is false when the pod was
// already gone or replaced.
func (s *Session) evict(ctx context.Context, id podID) (evicted bool, _ error) {
	ev := &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Name: id.Name, Namespace: id.Namespace},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &id.UID}},
	}
	var pdb string
	var fatal error
	err := wait.For(ctx, fmt.Sprintf("eviction of pod %s/%s", id.Namespace, id.Name), remaining(ctx),
		defaults.EvictionRetryInterval, func(ctx context.Context) (bool, string, error) {
			err := s.cl.Kube.PolicyV1().Evictions(id.Namespace).Evict(ctx, ev)
			switch {
			case err == nil:
				evicted = true
				return true, "", nil
			case apierrors.IsNotFound(err), apierrors.IsConflict(err):
				return true, "", nil // already gone, or replaced (UID precondition)
			case apierrors.IsTooManyRequests(err):
				name, msg := disruptionBudget(err)
				if name != "" {
					pdb = name
				}
				return false, msg, nil
			case k8s.IsTransient(err): // a busy or restarting API server: ask again
				return false, "the API server failed the eviction: " + err.Error(), err
			default:
				fatal = err
				return true, "", nil
			}
		})
	if fatal != nil {
		return false, &stepError{reason: fmt.Sprintf("evict pod %s/%s: %v", id.Namespace, id.Name, fatal)}
	}
	var te *wait.TimeoutError
	if errors.As(err, &te) {
		se := &stepError{pdb: pdb, observed: te.Observed}
		se.reason = fmt.Sprintf("eviction of pod %s/%s refused for %s", id.Namespace, id.Name, te.Timeout.Round(1e9))
		if pdb != "" {
			se.reason = fmt.Sprintf("eviction of pod %s/%s refused by PodDisruptionBudget %s for %s",
				id.Namespace, id.Name, pdb, te.Timeout.Round(1e9))
		}
		return false, se
	}
	return evicted, err
}

// budgetName finds the PDB's name in the eviction API's refusal cause.
var budgetName = regexp.MustCompile(`[Tt]he disruption budget (\S+)`)

// disruptionBudget returns the name of the PodDisruptionBudget behind a 429 (empty when the 429
// came from API priority and fairness instead) and the server's explanation.
func disruptionBudget(err error) (string, string) {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return "", err.Error()
	}
	status := st.Status()
	msg := status.Message
	if status.Details != nil {
		for _, c := range status.Details.Causes {
			if c.Type == policyv1.DisruptionBudgetCause {
				msg = c.Message
				if m := budgetName.FindStringSubmatch(c.Message); m != nil {
					return m[1], msg
				}
			}
		}
	}
	return "", msg
}

// waitReplaced waits until the evicted pod (when given) is gone and the workload has its desired
// number of ready pods, all of them managed by the target CNI (strategy unmanaged) when evicted is
// empty (the final check).
func (s *Session) waitReplaced(ctx context.Context, st *Step, evicted podID) error {
	what := fmt.Sprintf("%s to be back to its desired ready pods", st.Ref)
	if evicted.Name != "" {
		what = fmt.Sprintf("evicted pod %s of %s to be replaced", evicted.Name, st.Ref)
	}
	return wait.For(ctx, what, remaining(ctx), defaults.RestartPollInterval, func(context.Context) (bool, string, error) {
		w := asWorkload(s.st.get(st.Kind, st.Namespace, st.Name))
		if w == nil {
			return false, "workload not in the cache (deleted?)", nil
		}
		if p, ok := s.st.get(resPods, evicted.Namespace, evicted.Name).(*corev1.Pod); ok && p.UID == evicted.UID {
			return false, "evicted pod still terminating", nil
		}
		pods := s.st.podsOf(w)
		observed := podsSummary(pods, w.desired)
		n := 0
		for _, p := range livePods(pods) {
			if ready(p) {
				n++
			}
		}
		if int32(n) < w.desired {
			return false, observed, nil
		}
		if evicted.Name == "" {
			if bad := s.notManaged(pods); bad != "" {
				return false, observed + "; " + bad, nil
			}
		}
		return true, observed, nil
	})
}

// notManaged names the live pods not yet managed by the target CNI (strategy unmanaged only).
func (s *Session) notManaged(pods []*corev1.Pod) string {
	if s.managed == nil {
		return ""
	}
	var bad []string
	n := 0
	for _, p := range livePods(pods) {
		if s.managed.state(p) != stateManaged {
			n++
			if len(bad) < 3 {
				bad = append(bad, fmt.Sprintf("%s (IP %s)", p.Name, orNone(p.Status.PodIP)))
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("not managed by %s yet: %s", s.cfg.TargetCNI, joinMore(bad, n))
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "none"
	}
	return s
}

// applyBarePods evicts bare pods when bare_pods is delete; otherwise they are reported.
func (s *Session) applyBarePods(ctx context.Context, bare []BarePod) []BarePod {
	out := make([]BarePod, len(bare))
	copy(out, bare)
	var idx []int
	for i := range out {
		out[i].Outcome = BareReported
		if out[i].Action == ActionEvict {
			out[i].Outcome = OutcomeNotStarted
			idx = append(idx, i)
		}
	}
	s.pool(ctx, idx, func(i int) { s.evictBarePod(ctx, &out[i]) }, func(i int) { out[i].Message = stopped(ctx) })
	return out
}

func (s *Session) evictBarePod(ctx context.Context, bp *BarePod) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	id := podID{Namespace: bp.Namespace, Name: bp.Name, UID: bp.uid}
	evicted, err := s.evict(ctx, id)
	bp.changed = evicted
	if err == nil && s.cfg.Wait {
		what := "bare pod"
		if bp.Owner != "" {
			what = "pod of " + bp.Owner
		}
		err = wait.For(ctx, fmt.Sprintf("%s %s/%s to be gone", what, bp.Namespace, bp.Name), remaining(ctx),
			defaults.RestartPollInterval, func(context.Context) (bool, string, error) {
				p, ok := s.st.get(resPods, id.Namespace, id.Name).(*corev1.Pod)
				return !ok || p.UID != id.UID, "still terminating", nil
			})
	}
	bp.Outcome = BareEvicted
	if err != nil {
		bp.Outcome = OutcomeFailed
		bp.Message, _, bp.PDB = describeFailure(ctx, err)
	}
}
