package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// remover runs the steps of a plan.
type remover struct {
	Clients
	p       Parameters
	rep     *Report
	removed map[string]bool
}

func (r *remover) run(ctx context.Context, s step) error {
	if s.drain != "" {
		return r.drain(ctx, s.drain)
	}
	for _, ref := range s.deletes {
		if err := r.delete(ctx, ref); err != nil {
			return err
		}
	}
	left, err := r.waitGone(ctx, s.name, s.deletes)
	if err == nil || !isTimeout(err) {
		return err
	}
	stuck := r.diagnose(ctx, left)
	if !r.p.StripFinalizers {
		r.rep.Stuck = append(r.rep.Stuck, stuck...)
		return fmt.Errorf("%s; set strip_finalizers: true to strip them (whatever they guard is then left behind)", describeStuck(stuck))
	}
	if err := r.strip(ctx, stuck); err != nil {
		return err
	}
	left, err = r.waitGone(ctx, s.name, left)
	if err != nil && isTimeout(err) {
		again := r.diagnose(ctx, left)
		r.rep.Stuck = append(r.rep.Stuck, again...)
		return fmt.Errorf("still there after stripping finalizers: %s", describeStuck(again))
	}
	return err
}

// delete deletes one object; one that is already gone is fine. Workloads are deleted in the
// foreground, so that they are gone only once their pods are.
func (r *remover) delete(ctx context.Context, ref Ref) error {
	opts := metav1.DeleteOptions{}
	if ref.GVR == gvrDaemonSet || ref.GVR == gvrDeployment {
		fg := metav1.DeletePropagationForeground
		opts.PropagationPolicy = &fg
	}
	err := ref.client(r.Dynamic).Delete(ctx, ref.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}

// waitGone waits (bounded by Timeout) until every ref is gone, recording each as removed when it
// is; it returns those still there.
func (r *remover) waitGone(ctx context.Context, stepName string, refs []Ref) ([]Ref, error) {
	left := refs
	what := fmt.Sprintf("%d object(s) of step %s to be deleted", len(refs), stepName)
	err := wait.For(ctx, what, r.p.Timeout, 0, func(ctx context.Context) (bool, string, error) {
		var still []Ref
		for _, ref := range left {
			_, err := ref.client(r.Dynamic).Get(ctx, ref.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				r.markRemoved(ref)
			case err != nil:
				return false, "", fmt.Errorf("get %s: %w", ref, err)
			default:
				still = append(still, ref)
			}
		}
		left = still
		return len(left) == 0, "still there: " + joinRefs(left), nil
	})
	return left, err
}

func (r *remover) markRemoved(ref Ref) {
	if r.removed == nil {
		r.removed = map[string]bool{}
	}
	if !r.removed[ref.String()] {
		r.removed[ref.String()] = true
		r.rep.Removed = append(r.rep.Removed, ref.String())
	}
}

// finish lists what the plan deleted that was not removed.
func (r *remover) finish(steps []step) {
	for _, s := range steps {
		for _, ref := range s.deletes {
			if !r.removed[ref.String()] {
				r.rep.NotRemoved = append(r.rep.NotRemoved, ref.String())
			}
		}
	}
}

func isTimeout(err error) bool {
	var te *wait.TimeoutError
	return errors.As(err, &te)
}

func joinRefs(refs []Ref) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

func describeStuck(stuck []Stuck) string {
	var parts []string
	for _, s := range stuck {
		switch {
		case len(s.Finalizers) > 0:
			parts = append(parts, fmt.Sprintf("%s is held by finalizer(s) %s", s.Object, strings.Join(s.Finalizers, ", ")))
		default:
			parts = append(parts, fmt.Sprintf("%s: %s", s.Object, s.Reason))
		}
	}
	return "stuck: " + strings.Join(parts, "; ")
}
