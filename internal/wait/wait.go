// Package wait polls a condition until it holds or a timeout passes. Every wait in this project
// goes through it, so every timeout says what was waited for and what was last observed.
package wait

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Condition reports whether the awaited state holds. The string describes what was observed (for
// the timeout message: "2/3 agents ready, not ready on node-2"); an error is kept as the last error
// and polling goes on.
type Condition func(ctx context.Context) (done bool, observed string, err error)

// TimeoutError says what was awaited, for how long, and what was last seen.
type TimeoutError struct {
	What     string
	Timeout  time.Duration // how long it waited
	Observed string
	LastErr  error
	// ByCaller is set when the caller's deadline ended the wait before its own timeout (this one).
	ByCaller time.Duration
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("timed out after %s waiting for %s", e.Timeout, e.What)
	if e.ByCaller > 0 {
		msg = fmt.Sprintf("timed out after %s (the caller's deadline, before this wait's own %s) waiting for %s", e.Timeout, e.ByCaller, e.What)
	}
	if e.Observed != "" {
		msg += ": " + e.Observed
	}
	if e.LastErr != nil {
		msg += fmt.Sprintf(" (last error: %v)", e.LastErr)
	}
	return msg
}

// For polls cond every interval (defaults.PollInterval when 0) until it is done, the timeout passes
// (TimeoutError) or ctx ends first: its deadline is a TimeoutError too, saying the caller's deadline
// ended it (ByCaller), and a cancel an error wrapping context.Canceled.
func For(ctx context.Context, what string, timeout, interval time.Duration, cond Condition) error {
	if interval <= 0 {
		interval = defaults.PollInterval
	}
	parent, start := ctx, time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var observed string
	var lastErr error
	for {
		done, obs, err := cond(ctx)
		if err == nil && done {
			return nil
		}
		if obs != "" {
			observed = obs
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			switch {
			case parent.Err() == nil:
				return &TimeoutError{What: what, Timeout: timeout, Observed: observed, LastErr: lastErr}
			case errors.Is(parent.Err(), context.DeadlineExceeded):
				// The caller's deadline came first: a timeout still, but not this wait's.
				return &TimeoutError{What: what, Timeout: time.Since(start).Round(time.Millisecond), Observed: observed,
					LastErr: lastErr, ByCaller: timeout}
			}
			return fmt.Errorf("waiting for %s: %w", what, parent.Err())
		case <-time.After(interval):
		}
	}
}
