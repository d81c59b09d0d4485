package restart

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// fieldManager names this module in managedFields.
const fieldManager = "cnimigrate-pod-restart"

// Apply carries out a plan from this session: the cluster DNS first, waited on; then every other
// step through a pool of Parallelism workers; then bare pods when bare_pods is delete, and pods of
// other controllers when other_pods is evict. The report is
// always complete; the error, when not nil, summarises what failed or was not started.
func (s *Session) Apply(ctx context.Context, pl *Plan) (*Report, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.TotalTimeout)
	defer cancel()
	results := make([]Result, len(pl.Steps))
	var dns, rest []int
	for i, st := range pl.Steps {
		results[i] = Result{Ref: st.Ref, Action: st.Action, Reason: st.Reason, Outcome: OutcomeNotStarted}
		if st.DNS {
			dns = append(dns, i)
		} else {
			rest = append(rest, i)
		}
	}
	s.pool(ctx, dns, func(i int) { results[i] = s.runStep(ctx, &pl.Steps[i]) }, func(i int) { results[i].Message = stopped(ctx) })
	if bad := firstFailed(results, dns); bad != nil {
		for _, i := range rest {
			results[i].Message = fmt.Sprintf("not started: the cluster DNS (%s) did not restart cleanly, and "+
				"pods restarted now would come up without working DNS; fix it and run again", bad.Ref)
		}
		rest = nil
	}
	s.pool(ctx, rest, func(i int) { results[i] = s.runStep(ctx, &pl.Steps[i]) }, func(i int) { results[i].Message = stopped(ctx) })
	bare := s.applyBarePods(ctx, pl.BarePods)
	other := s.applyBarePods(ctx, pl.OtherPods)
	rep := s.report(pl, results, bare, other)
	rep.DurationSeconds = seconds(time.Since(start))
	return rep, rep.err()
}

// pool runs do(i) for each index with at most Parallelism at once, in order of idx; indices not
// started before ctx ends get skip(i).
func (s *Session) pool(ctx context.Context, idx []int, do, skip func(int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(s.cfg.Parallelism, len(idx)) {
		wg.Go(func() {
			for i := range jobs {
				if ctx.Err() != nil {
					skip(i)
					continue
				}
				do(i)
			}
		})
	}
	for _, i := range idx {
		if ctx.Err() != nil {
			skip(i)
			continue
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			skip(i)
		}
	}
	close(jobs)
	wg.Wait()
}

func stopped(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "not started: total_timeout was reached first"
	}
	return "not started: the run was interrupted first"
}

func firstFailed(results []Result, idx []int) *Result {
	for _, i := range idx {
		if results[i].Outcome != OutcomeRolledOut && results[i].Outcome != OutcomeTriggered {
			return &results[i]
		}
	}
	return nil
}

// runStep restarts (or evicts, or waits for) one workload within the per-workload timeout.
func (s *Session) runStep(ctx context.Context, st *Step) Result {
	res := Result{Ref: st.Ref, Action: st.Action, Reason: st.Reason}
	res.Order = s.progress.report(st.Ref, "start", "")
	t0 := time.Now()
	wctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var err error
	switch st.Action {
	case ActionRestart:
		err = s.restart(wctx, st, &res)
	case ActionEvict:
		err = s.evictAll(wctx, st, &res)
	case ActionWait:
		if s.cfg.Wait {
			err = s.waitRollout(wctx, st, 0)
		}
	}
	res.DurationSeconds = seconds(time.Since(t0))
	res.Outcome = OutcomeRolledOut
	if !s.cfg.Wait {
		res.Outcome = OutcomeTriggered
	}
	if err != nil {
		res.Outcome = OutcomeFailed
		res.Message, res.Observed, res.PDB = describeFailure(ctx, err)
	}
	s.progress.report(st.Ref, "done", res.Outcome)
	return res
}

// restart sets the restartedAt pod-template annotation (as `kubectl rollout restart`) and waits.
func (s *Session) restart(ctx context.Context, st *Step, res *Result) error {
	gen, err := s.patchRestartedAt(ctx, st.Ref)
	if err != nil {
		return fmt.Errorf("restart %s: %w", st.Ref, err)
	}
	res.changed = true
	if !s.cfg.Wait {
		return nil
	}
	return s.waitRollout(ctx, st, gen)
}

func (s *Session) patchRestartedAt(ctx context.Context, ref Ref) (int64, error) {
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`,
		defaults.RestartedAtAnnot, time.Now().Format(time.RFC3339))
	opts := metav1.PatchOptions{FieldManager: fieldManager}
	apps := s.cl.Kube.AppsV1()
	var (
		obj metav1.Object
		err error
	)
	switch ref.Kind {
	case KindDeployment:
		var d *appsv1.Deployment
		d, err = apps.Deployments(ref.Namespace).Patch(ctx, ref.Name, types.StrategicMergePatchType, patch, opts)
		obj = d
	case KindStatefulSet:
		var ss *appsv1.StatefulSet
		ss, err = apps.StatefulSets(ref.Namespace).Patch(ctx, ref.Name, types.StrategicMergePatchType, patch, opts)
		obj = ss
	case KindDaemonSet:
		var ds *appsv1.DaemonSet
		ds, err = apps.DaemonSets(ref.Namespace).Patch(ctx, ref.Name, types.StrategicMergePatchType, patch, opts)
		obj = ds
	default:
		return 0, fmt.Errorf("cannot restart kind %s", ref.Kind)
	}
	if err != nil {
		return 0, err
	}
	return obj.GetGeneration(), nil
}

// waitRollout waits, on the watch cache, until the rollout is complete with `kubectl rollout
// status` semantics and (strategy unmanaged) every pod is managed by the target CNI.
func (s *Session) waitRollout(ctx context.Context, st *Step, minGen int64) error {
	var fatal error
	err := wait.For(ctx, fmt.Sprintf("%s to roll out", st.Ref), remaining(ctx), defaults.RestartPollInterval,
		func(context.Context) (bool, string, error) {
			obj := s.st.get(st.Kind, st.Namespace, st.Name)
			w := asWorkload(obj)
			if w == nil {
				fatal = fmt.Errorf("%s was deleted while it was being restarted", st.Ref)
				return true, "", nil
			}
			done, msg, err := rolloutStatus(obj, minGen)
			if err != nil {
				fatal = err
				return true, "", nil
			}
			pods := s.st.podsOf(w)
			observed := msg + "; " + podsSummary(pods, w.desired)
			if !done {
				return false, observed, nil
			}
			if bad := s.notManaged(pods); bad != "" {
				return false, observed + "; " + bad, nil
			}
			return true, observed, nil
		})
	if fatal != nil {
		return &stepError{reason: fatal.Error(), observed: s.observe(st)}
	}
	return err
}

// observe describes a workload's pods now, for failure messages.
func (s *Session) observe(st *Step) string {
	w := asWorkload(s.st.get(st.Kind, st.Namespace, st.Name))
	if w == nil {
		return ""
	}
	return podsSummary(s.st.podsOf(w), w.desired)
}

func remaining(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl)
	}
	return defaults.RestartTimeout
}

func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
