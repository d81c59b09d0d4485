package state

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestCheckLockOptions(t *testing.T) {
	cases := []struct {
		state, holder, wantErr string
	}{
		{StateLocked, "", "state=locked needs lock_holder"},
		{StateUnlocked, "", "state=unlocked needs lock_holder"},
		{StateGet, "a", "lock_holder is given with state=get"},
		{StateAbsent, "a", "lock_holder is given with state=absent"},
		{StateSet, "a", ""},
		{StateLocked, "a", ""},
		{StateGet, "", ""},
	}
	for _, c := range cases {
		err := Parameters{State: c.state}.CheckLock(c.holder)
		if (c.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("state=%s lock_holder=%q: got %v, want %q", c.state, c.holder, err, c.wantErr)
		}
	}
}

// TestLockCheckModeTakesNothing: a dry run reports that it would take the lock, and is refused like
// a real run when another holder's lock is valid, but writes nothing.
func TestLockCheckModeTakesNothing(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	lock := func(holder string, at time.Duration) Lock {
		return Lock{Leases: cs.CoordinationV1(), Holder: holder, Duration: time.Minute,
			Now: func() time.Time { return start.Add(at) }}
	}
	out, err := lock("a", 0).Acquire(ctx, true)
	if err != nil || !out.Changed() || out.After == nil || out.After.Holder != "a" {
		t.Fatalf("dry run on a free lock: %+v, %v", out, err)
	}
	if _, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "cnimigrate", metav1.GetOptions{}); err == nil {
		t.Fatal("the dry run created the Lease")
	}
	if _, err := lock("a", 0).Acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := lock("b", 30*time.Second).Acquire(ctx, true); !errors.Is(err, ErrLockHeld) || !strings.Contains(err.Error(), "kubectl -n kube-system delete lease cnimigrate") {
		t.Fatalf("dry run against a held lock: want ErrLockHeld saying how to break it, got %v", err)
	}
	if out, err := lock("a", 0).Release(ctx, true); err != nil || !out.Changed() {
		t.Fatalf("dry run of the release: %+v, %v", out, err)
	}
	if _, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "cnimigrate", metav1.GetOptions{}); err != nil {
		t.Fatalf("the dry run released the lock: %v", err)
	}
}
