package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// killGrace is how long control-plane processes get between SIGTERM and SIGKILL.
const killGrace = 5 * time.Second

// Down removes the lab: node hosts (processes, namespaces, links, mounts), the control plane
// (every process mentioning its kwok dir) and the work dir. Like rm -f it is idempotent: calling it
// again, or on a lab that is half made, removes what is left and succeeds.
func (l *Lab) Down(ctx context.Context) error {
	if l == nil || l.state == nil {
		return nil
	}
	if l.attached {
		return DownDir(ctx, l.state.WorkDir)
	}
	l.stopStandIn()
	var hostsErr error
	if l.hosts != nil {
		if err := l.hosts.Destroy(); err != nil {
			hostsErr = fmt.Errorf("remove node hosts: %w", err)
		}
	}
	// If the node hosts could not be removed, keep the work dir (and its state file) so that a
	// later Down or DownDir can try again.
	return errors.Join(hostsErr, downState(ctx, l.state, hostsErr != nil))
}

// DownByName removes the lab called name whose work dir is the default one (DefaultWorkDir).
func DownByName(ctx context.Context, name string) error {
	return DownDir(ctx, DefaultWorkDir(name))
}

// DownDir removes the lab whose work dir is dir, from its state file: the way to clean up after a
// crashed Up or a killed process. A missing dir is not an error. A dir without a state file is left
// alone unless it is empty (it might not be a lab's).
func DownDir(ctx context.Context, dir string) error {
	st, err := ReadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); errors.Is(serr, os.ErrNotExist) {
			return nil
		}
		if rerr := os.Remove(dir); rerr != nil {
			return fmt.Errorf("%s has no %s: not removing it (is it a lab's work dir?): %w", dir, StateName, rerr)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if st.WorkDir != dir {
		abs, _ := filepath.Abs(dir)
		st.WorkDir = abs
	}
	if err := stopOwner(ctx, st); err != nil {
		return err
	}
	return downState(ctx, st, false)
}

// stopOwner asks a lab keeper process (hack/lab up runs one) to bring its lab down itself, since it
// holds the node hosts; a test process owning a lab is never signalled.
func stopOwner(ctx context.Context, st *State) error {
	if !st.Keeper || st.OwnerPID == os.Getpid() || !alive(st.OwnerPID) {
		return nil
	}
	_ = syscall.Kill(st.OwnerPID, syscall.SIGTERM)
	deadline := time.Now().Add(90 * time.Second)
	for alive(st.OwnerPID) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	if alive(st.OwnerPID) {
		return fmt.Errorf("lab %s: its keeper process %d did not stop within 90s", st.Name, st.OwnerPID)
	}
	return nil
}

// downState removes what the state file records, in reverse order of creation, and then the work
// dir unless keepWorkDir.
func downState(ctx context.Context, st *State, keepWorkDir bool) error {
	if _, err := os.Stat(st.WorkDir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	st.Phase = PhaseStopping
	_ = st.write()
	var errs []error
	if err := cleanupHosts(ctx, st); err != nil {
		errs = append(errs, fmt.Errorf("remove node hosts: %w", err))
	}
	if st.KwokDir != "" {
		if _, err := os.Stat(filepath.Join(st.KwokDir, "clusters", st.Name)); err == nil && st.Kwokctl != "" {
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			cp := controlPlane{Name: st.Name, KwokDir: st.KwokDir}
			_ = deleteControlPlane(dctx, st.Kwokctl, st.WorkDir, cp) // leftovers are killed below
			cancel()
		}
		if err := killProcessesMentioning(ctx, st.KwokDir, killGrace); err != nil {
			errs = append(errs, fmt.Errorf("stop control plane: %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("lab %s: %w (work dir %s kept, with its state file, for another try)", st.Name, errors.Join(errs...), st.WorkDir)
	}
	if keepWorkDir {
		return nil
	}
	if err := os.RemoveAll(st.WorkDir); err != nil {
		return fmt.Errorf("lab %s: remove work dir: %w", st.Name, err)
	}
	return nil
}

// Sweep removes every lab under root (StateRoot() when "") for which match returns true (nil
// matches all). It returns the names of the labs removed.
func Sweep(ctx context.Context, root string, match func(*State) bool) ([]string, error) {
	if root == "" {
		root = StateRoot()
	}
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep labs: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		st, err := ReadState(dir)
		if err != nil || (match != nil && !match(st)) {
			continue
		}
		if err := DownDir(ctx, dir); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, st.Name)
	}
	return removed, errors.Join(errs...)
}

// Stale matches labs whose owner process (the one that ran Up, or the CLI's keeper) is gone: a
// crashed test or start. Their node hosts died with it; Sweep(ctx, "", lab.Stale) removes the rest.
func Stale(st *State) bool { return !alive(st.OwnerPID) }
