// Package labtest starts a lab for a test: skipped under -short, failed (not skipped) when the lab
// cannot start or its tools are missing, removed by t.Cleanup, uniquely named so parallel tests
// and parallel test processes never collide.
package labtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

var seq atomic.Int64

// Root is where test labs keep their work dirs: next to the user's labs, under a "test" dir, so
// that a later run can sweep the labs of crashed test processes.
func Root() string { return filepath.Join(lab.StateRoot(), "test") }

// Start brings up a lab for t with cfg (start from lab.Defaults()); Name and WorkDir are replaced by
// unique ones, Progress goes to t.Log. Labs left behind by dead test processes are swept first.
func Start(t testing.TB, cfg lab.Config) *lab.Lab {
	t.Helper()
	if testing.Short() {
		t.Skip("lab: skipped under -short (starts a control plane and node hosts)")
	}
	if cfg.Hosts && os.Geteuid() != 0 {
		t.Fatal("lab: node hosts (Config.Hosts) need root: run the integration tests as root, or set Hosts=false")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if removed, err := lab.Sweep(ctx, Root(), lab.Stale); err != nil {
		t.Logf("lab: sweeping labs of dead test processes: %v", err)
	} else if len(removed) > 0 {
		t.Logf("lab: swept labs of dead test processes: %s", strings.Join(removed, ", "))
	}
	cfg.Name = fmt.Sprintf("t%d-%d", os.Getpid(), seq.Add(1))
	cfg.WorkDir = filepath.Join(Root(), cfg.Name)
	cfg.Progress = logWriter{t}
	start := time.Now()
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Logf("lab %s up in %s: kubeconfig %s, inventory %s", cfg.Name, time.Since(start).Round(time.Millisecond),
		l.Kubeconfig(), l.InventoryPath())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := l.Down(ctx); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	return l
}

// logWriter sends progress lines to t.Log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
