package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Lock is the migration's lock: a coordination.k8s.io Lease that one run (a migration or a
// rollback) holds from its start to its end, renewing it as it goes, so that a second run started
// meanwhile stops instead of working on the same cluster. A lock whose holder stopped renewing
// (renewTime + leaseDurationSeconds in the past) may be taken over. Every write carries the
// resourceVersion read, so of two runs racing for the lock only one wins.
type Lock struct {
	Leases    coordinationclient.LeasesGetter
	Namespace string        // default defaults.MigrationStateNamespace
	Name      string        // default defaults.MigrationLock
	Holder    string        // who takes, renews or releases: operator@controller and a run id
	Duration  time.Duration // validity after the last renewal; default defaults.MigrationLockDuration
	Now       func() time.Time
}

// LockView is a Lease as the module reports it.
type LockView struct {
	Lease           string `json:"lease"`
	Holder          string `json:"holder"`
	AcquiredAt      string `json:"acquired_at"`
	RenewedAt       string `json:"renewed_at"`
	ExpiresAt       string `json:"expires_at"`
	DurationSeconds int32  `json:"duration_seconds"`
	Transitions     int32  `json:"transitions"`
}

// LockOutcome is what Acquire or Release found and did (in check mode, would do). Renewing one's
// own lock is a heartbeat, not a change: it is not in Plan.
type LockOutcome struct {
	Before, After *LockView // nil: no Lease
	Plan          []string
	Warnings      []string
}

// Changed reports whether the lock was (or would be) taken, taken over or released.
func (o *LockOutcome) Changed() bool { return len(o.Plan) > 0 }

// ErrLockHeld is wrapped by the error Acquire returns when another holder has a valid lock.
var ErrLockHeld = errors.New("another migration holds the lock")

// Ref names the Lease ("kube-system/cnimigrate").
func (l Lock) Ref() string { return l.Namespace + "/" + l.Name }

func (l *Lock) setDefaults() error {
	if l.Namespace == "" {
		l.Namespace = defaults.MigrationStateNamespace
	}
	if l.Name == "" {
		l.Name = defaults.MigrationLock
	}
	if l.Duration == 0 {
		l.Duration = defaults.MigrationLockDuration
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	switch {
	case l.Holder == "":
		return errors.New("the lock needs a holder (lock_holder): who runs this migration")
	case l.Duration < time.Second:
		return fmt.Errorf("lock_duration must be at least 1 second, got %s", l.Duration)
	}
	return nil
}

// CheckLock validates the lock options against the state: locked and unlocked need a holder; set may
// carry one (the lock is renewed, or refused, before the record is written); get and absent do not.
func (p Parameters) CheckLock(holder string) error {
	switch {
	case (p.State == StateLocked || p.State == StateUnlocked) && holder == "":
		return fmt.Errorf("state=%s needs lock_holder: who takes or releases the lock", p.State)
	case holder != "" && p.State != StateLocked && p.State != StateUnlocked && p.State != StateSet:
		return fmt.Errorf("lock_holder is given with state=%s: the lock is taken with state=locked, renewed with state=set "+
			"or state=locked, and released with state=unlocked", p.State)
	}
	return nil
}

// RenderLock shows a lock as YAML for diffs ("" when there is none).
func RenderLock(v *LockView) string {
	if v == nil {
		return ""
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("(cannot render: %v)\n", err)
	}
	return string(b)
}

// Acquire takes the lock, renews it when Holder has it, or takes it over when its holder let it
// expire (with a warning naming that holder). Another holder's valid lock is refused with its
// identity and times. In check mode it only reports.
func (l Lock) Acquire(ctx context.Context, checkOnly bool) (*LockOutcome, error) {
	if err := l.setDefaults(); err != nil {
		return nil, err
	}
	var out *LockOutcome
	err := retry.RetryOnConflict(conflictBackoff, func() error {
		lease, err := l.read(ctx)
		if err != nil {
			return err
		}
		now := l.Now()
		out = &LockOutcome{Before: l.view(lease)}
		next := l.planAcquire(lease, now, out)
		if out.Before != nil && out.Before.Holder != l.Holder && !out.Changed() {
			return l.refusal(out.Before)
		}
		out.After = l.view(next)
		if checkOnly {
			return nil
		}
		return l.write(ctx, lease, next)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// planAcquire returns the Lease as Holder would leave it and records the change in out.
func (l Lock) planAcquire(lease *coordinationv1.Lease, now time.Time, out *LockOutcome) *coordinationv1.Lease {
	stamp := metav1.NewMicroTime(now)
	secs := int32(l.Duration / time.Second)
	if lease == nil {
		out.Plan = append(out.Plan, fmt.Sprintf("take the lock %s as %s", l.Ref(), l.Holder))
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: l.Name, Namespace: l.Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "cnimigrate"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &l.Holder, LeaseDurationSeconds: &secs,
				AcquireTime: &stamp, RenewTime: &stamp},
		}
	}
	next := lease.DeepCopy()
	next.Spec.RenewTime, next.Spec.LeaseDurationSeconds = &stamp, &secs
	before := out.Before
	switch {
	case before.Holder == l.Holder:
		return next // a renewal
	case !expired(lease, now):
		return next // refused by the caller: the plan stays empty
	}
	transitions := before.Transitions + 1
	next.Spec.HolderIdentity, next.Spec.AcquireTime, next.Spec.LeaseTransitions = &l.Holder, &stamp, &transitions
	if before.Holder == "" {
		out.Plan = append(out.Plan, fmt.Sprintf("take the lock %s as %s", l.Ref(), l.Holder))
		return next
	}
	out.Plan = append(out.Plan, fmt.Sprintf("take over the lock %s from %s", l.Ref(), before.Holder))
	out.Warnings = append(out.Warnings, fmt.Sprintf("took over the lock %s from %s, which held it since %s "+
		"and stopped renewing it (last renewed %s, expired %s): if that run is still going, stop it",
		l.Ref(), before.Holder, before.AcquiredAt, before.RenewedAt, before.ExpiresAt))
	return next
}

// refusal is the error for a lock another holder keeps valid.
func (l Lock) refusal(v *LockView) error {
	return fmt.Errorf("Stop: %w %s: %s since %s (renewed %s, valid until %s). Wait for that run to finish. "+
		"If it has ended without releasing the lock (interrupted, or failed), continue it as the same holder "+
		"(lock_holder=%q; in the playbooks -e cni_lock_holder=...), let the lock expire at %s, or break it: "+
		"kubectl -n %s delete lease %s",
		ErrLockHeld, l.Ref(), v.Holder, v.AcquiredAt, v.RenewedAt, v.ExpiresAt, v.Holder, v.ExpiresAt, l.Namespace, l.Name)
}

// Release deletes the lock when Holder has it. Another holder's lock is left alone, with a warning
// (this run's lock expired and was taken over); no lock is nothing to do.
func (l Lock) Release(ctx context.Context, checkOnly bool) (*LockOutcome, error) {
	if err := l.setDefaults(); err != nil {
		return nil, err
	}
	lease, err := l.read(ctx)
	if err != nil {
		return nil, err
	}
	out := &LockOutcome{Before: l.view(lease), After: l.view(lease)}
	switch {
	case lease == nil:
		return out, nil
	case out.Before.Holder != l.Holder:
		out.Warnings = append(out.Warnings, fmt.Sprintf("the lock %s is held by %s (since %s), not by %s: left alone",
			l.Ref(), out.Before.Holder, out.Before.AcquiredAt, l.Holder))
		return out, nil
	}
	out.Plan, out.After = []string{fmt.Sprintf("release the lock %s held by %s", l.Ref(), l.Holder)}, nil
	if checkOnly {
		return out, nil
	}
	rv, uid := lease.ResourceVersion, lease.UID
	err = l.Leases.Leases(l.Namespace).Delete(ctx, l.Name,
		metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv, UID: &uid}})
	switch {
	case apierrors.IsConflict(err):
		return nil, fmt.Errorf("release the lock %s: it changed while being released (taken over?): %w", l.Ref(), err)
	case err != nil && !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("release the lock %s: %w", l.Ref(), err)
	}
	return out, nil
}

func (l Lock) read(ctx context.Context) (*coordinationv1.Lease, error) {
	lease, err := l.Leases.Leases(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the lock %s: %w", l.Ref(), err)
	}
	return lease, nil
}

// write creates or updates the Lease; a concurrent writer (including a create racing a create)
// surfaces as a conflict, so Acquire re-reads and re-plans.
func (l Lock) write(ctx context.Context, before, next *coordinationv1.Lease) error {
	api := l.Leases.Leases(l.Namespace)
	var err error
	if before == nil {
		_, err = api.Create(ctx, next, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return apierrors.NewConflict(coordinationv1.Resource("leases"), l.Name, err)
		}
	} else {
		_, err = api.Update(ctx, next, metav1.UpdateOptions{})
	}
	if err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("write the lock %s: %w", l.Ref(), err)
	}
	return err
}

// expired: the holder has not renewed the lease within its duration.
func expired(lease *coordinationv1.Lease, now time.Time) bool {
	s := lease.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return true
	}
	return now.After(s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second))
}

func (l Lock) view(lease *coordinationv1.Lease) *LockView {
	if lease == nil {
		return nil
	}
	s := lease.Spec
	v := &LockView{Lease: l.Ref()}
	if s.HolderIdentity != nil {
		v.Holder = *s.HolderIdentity
	}
	if s.AcquireTime != nil {
		v.AcquiredAt = s.AcquireTime.UTC().Format(TimeFormat)
	}
	if s.LeaseDurationSeconds != nil {
		v.DurationSeconds = *s.LeaseDurationSeconds
	}
	if s.RenewTime != nil {
		v.RenewedAt = s.RenewTime.UTC().Format(TimeFormat)
		v.ExpiresAt = s.RenewTime.Add(time.Duration(v.DurationSeconds) * time.Second).UTC().Format(TimeFormat)
	}
	if s.LeaseTransitions != nil {
		v.Transitions = *s.LeaseTransitions
	}
	return v
}
