package parallel

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEach(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		n, limit   int
		wantMaxRun int64
	}{
		{"bounded", 20, 3, 3},
		{"unbounded", 5, 0, 5},
		{"limit above n", 2, 8, 2},
		{"none", 0, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var running, most, calls atomic.Int64
			release := make(chan struct{})
			var once sync.Once
			done := make(chan error)
			go func() {
				done <- Each(tt.n, tt.limit, func(i int) error {
					calls.Add(1)
					now := running.Add(1)
					for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
					}
					if now == tt.wantMaxRun {
						once.Do(func() { close(release) }) // the bound is reached: let everyone go
					}
					select { // a bound below wantMaxRun never releases: fail on the count, not a hang
					case <-release:
					case <-time.After(5 * time.Second):
					}
					running.Add(-1)
					return nil
				})
			}()
			if tt.n == 0 {
				if err := <-done; err != nil || calls.Load() != 0 {
					t.Fatalf("Each(0) = %v after %d calls", err, calls.Load())
				}
				return
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if calls.Load() != int64(tt.n) || most.Load() != tt.wantMaxRun {
				t.Fatalf("calls %d (want %d), most at once %d (want %d)", calls.Load(), tt.n, most.Load(), tt.wantMaxRun)
			}
		})
	}
}

func TestEachReportsEveryFailure(t *testing.T) {
	t.Parallel()
	errA, errB := errors.New("host 1 down"), errors.New("host 3 down")
	err := Each(5, 2, func(i int) error {
		switch i {
		case 1:
			return errA
		case 3:
			return errB
		}
		return nil
	})
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("Each = %v, want both failures", err)
	}
}
