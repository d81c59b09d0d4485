package wait

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	calls := 0
	err := For(context.Background(), "three calls", time.Minute, time.Millisecond, func(context.Context) (bool, string, error) {
		calls++
		return calls == 3, "", nil
	})
	if err != nil || calls != 3 {
		t.Errorf("error %v after %d calls, want nil after 3", err, calls)
	}
}

// A wait that times out says what it waited for, how long, what it last saw and the last error.
func TestForTimesOutSayingWhatItSaw(t *testing.T) {
	t.Parallel()
	n := 0
	err := For(context.Background(), "the agents", 50*time.Millisecond, 5*time.Millisecond, func(context.Context) (bool, string, error) {
		n++
		if n == 1 {
			return false, "1/3 ready", nil
		}
		return false, "", errors.New("connection refused")
	})
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("error %v, want a TimeoutError", err)
	}
	want := "timed out after 50ms waiting for the agents: 1/3 ready (last error: connection refused)"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// When the caller's deadline is shorter than the wait's own timeout, the error is a timeout that
// says so: it does not claim the wait's (longer) timeout passed.
func TestForCallerDeadlineIsNotTheWaitsTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := For(ctx, "the rollout", time.Hour, 5*time.Millisecond, func(context.Context) (bool, string, error) {
		return false, "2/3 updated", nil
	})
	var te *TimeoutError
	switch {
	case !errors.As(err, &te):
		t.Fatalf("error %v, want a TimeoutError", err)
	case te.ByCaller != time.Hour || te.Timeout >= time.Second:
		t.Errorf("waited %s, by caller %s; want the caller's ~30ms, before the wait's own 1h", te.Timeout, te.ByCaller)
	case !strings.Contains(err.Error(), "(the caller's deadline, before this wait's own 1h0m0s) waiting for the rollout: 2/3 updated"):
		t.Errorf("error %q", err)
	}
}

func TestForCallerCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	err := For(ctx, "never", time.Hour, time.Millisecond, func(context.Context) (bool, string, error) {
		cancel()
		return false, "", nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled wrapped", err)
	}
}

// The condition sees the wait's deadline, so its own API calls end with the wait.
func TestForConditionGetsTheWaitsDeadline(t *testing.T) {
	t.Parallel()
	var deadline time.Time
	_ = For(context.Background(), "x", time.Minute, time.Millisecond, func(ctx context.Context) (bool, string, error) {
		deadline, _ = ctx.Deadline()
		return true, "", nil
	})
	if d := time.Until(deadline); d <= 0 || d > time.Minute {
		t.Errorf("condition's deadline %v away, want within the wait's minute", d)
	}
}
