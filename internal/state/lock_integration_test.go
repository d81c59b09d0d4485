package state

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestIntegrationLockOnTheLab: one migration at a time, against a real API server. A second holder
// is refused with the first holder's identity and times; a lock whose holder stopped renewing is
// taken over with a warning naming the old holder; racing takers of a free lock leave exactly one
// winner; only the holder releases it.
func TestIntegrationLockOnTheLab(t *testing.T) {
	_, c := apiServer(t)
	ctx := context.Background()
	leases := c.Kube.CoordinationV1()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) func() time.Time { return func() time.Time { return start.Add(d) } }
	lock := func(holder string, now time.Duration) Lock {
		return Lock{Leases: leases, Holder: holder, Duration: 10 * time.Minute, Now: at(now)}
	}
	alice, bob := "alice@ctl-1 run 1", "bob@ctl-2 run 7"

	out, err := lock(alice, 0).Acquire(ctx, false)
	if err != nil || !out.Changed() || out.After.Holder != alice {
		t.Fatalf("alice takes the free lock: %+v, %v", out, err)
	}
	lease, err := leases.Leases("kube-system").Get(ctx, "cnimigrate", metav1.GetOptions{})
	if err != nil || *lease.Spec.HolderIdentity != alice || *lease.Spec.LeaseDurationSeconds != 600 {
		t.Fatalf("Lease kube-system/cnimigrate after alice took it: %v %+v", err, lease)
	}

	_, err = lock(bob, 5*time.Minute).Acquire(ctx, false)
	for _, want := range []string{"another migration holds the lock", alice, "since 2026-03-01T09:00:00", "renewed 2026-03-01T09:00:00"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("bob while alice holds the lock: want an error containing %q, got %v", want, err)
		}
	}

	if out, err := lock(alice, 8*time.Minute).Acquire(ctx, false); err != nil || out.Changed() || out.After.RenewedAt != "2026-03-01T09:08:00.000Z" {
		t.Fatalf("alice renews (not a change, renewTime moves): %+v, %v", out, err)
	}
	// Alice stops renewing: 10 minutes after her last renewal (09:08) the lock is free to take.
	if _, err := lock(bob, 17*time.Minute).Acquire(ctx, false); err == nil {
		t.Fatal("bob took the lock 9 minutes after alice's renewal, before it expired")
	}
	out, err = lock(bob, 19*time.Minute).Acquire(ctx, true)
	if err != nil || !out.Changed() || len(out.Warnings) == 0 {
		t.Fatalf("bob's dry run of a takeover: %+v, %v", out, err)
	}
	if lease, _ := leases.Leases("kube-system").Get(ctx, "cnimigrate", metav1.GetOptions{}); *lease.Spec.HolderIdentity != alice {
		t.Fatalf("check mode took the lock: holder %s", *lease.Spec.HolderIdentity)
	}
	out, err = lock(bob, 19*time.Minute).Acquire(ctx, false)
	if err != nil || out.After.Holder != bob || len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], alice) {
		t.Fatalf("bob takes over the expired lock with a warning naming alice: %+v, %v", out, err)
	}
	if _, err := lock(alice, 20*time.Minute).Acquire(ctx, false); err == nil || !strings.Contains(err.Error(), bob) {
		t.Fatalf("alice, back after her lock was taken over, must be refused naming bob: %v", err)
	}

	// Only the holder releases: alice's release leaves bob's lock alone (and says so).
	if out, err := lock(alice, 21*time.Minute).Release(ctx, false); err != nil || out.Changed() || len(out.Warnings) == 0 {
		t.Fatalf("alice releasing bob's lock: %+v, %v", out, err)
	}
	if out, err := lock(bob, 22*time.Minute).Release(ctx, false); err != nil || !out.Changed() {
		t.Fatalf("bob releases: %+v, %v", out, err)
	}
	if _, err := leases.Leases("kube-system").Get(ctx, "cnimigrate", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the Lease is still there after its holder released it: %v", err)
	}
	if out, err := lock(bob, 23*time.Minute).Release(ctx, false); err != nil || out.Changed() {
		t.Fatalf("releasing a released lock changes nothing: %+v, %v", out, err)
	}

	// Eight runs race for the free lock: exactly one wins, every other is refused naming the winner.
	var wg sync.WaitGroup
	type result struct {
		holder string
		err    error
	}
	results := make(chan result, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := fmt.Sprintf("racer-%d", i)
			_, err := lock(h, 30*time.Minute).Acquire(ctx, false)
			results <- result{h, err}
		}()
	}
	wg.Wait()
	close(results)
	var winners []string
	var refusals []error
	for r := range results {
		if r.err == nil {
			winners = append(winners, r.holder)
		} else {
			refusals = append(refusals, r.err)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("racing takers: %d winners %v, want exactly 1 (refusals %v)", len(winners), winners, refusals)
	}
	for _, err := range refusals {
		if !strings.Contains(err.Error(), winners[0]) {
			t.Errorf("a racer's refusal does not name the winner %s: %v", winners[0], err)
		}
	}
}
