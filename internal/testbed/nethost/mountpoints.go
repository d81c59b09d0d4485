package nethost

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Per-host directories are bind-mounted over paths of this machine; a bind mount needs its mount
// point to exist. The ones the harness had to create are recorded in the registry and removed
// (when still empty) once no harness instance is live, so the machine is left as it was.

func (r *registry) createdPath() string { return filepath.Join(r.dir, "created-dirs.json") }

func (r *registry) created() []string {
	var dirs []string
	if b, err := os.ReadFile(r.createdPath()); err == nil {
		_ = json.Unmarshal(b, &dirs)
	}
	return dirs
}

func (r *registry) setCreated(dirs []string) error {
	if len(dirs) == 0 {
		if err := os.Remove(r.createdPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(dirs)
	if err != nil {
		return err
	}
	return os.WriteFile(r.createdPath(), b, 0o644)
}

// ensureMountpoints creates the missing directories of each path, recording each one it creates
// before creating it. The registry is locked.
func ensureMountpoints(r *registry, paths []string) error {
	created := r.created()
	known := map[string]bool{}
	for _, d := range created {
		known[d] = true
	}
	for _, p := range paths {
		cur := "/"
		for _, part := range strings.Split(strings.Trim(filepath.Clean(p), "/"), "/") {
			cur = filepath.Join(cur, part)
			if _, err := os.Stat(cur); err == nil {
				continue
			} else if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("nethost: mount point %s: %w", cur, err)
			}
			if !known[cur] {
				created, known[cur] = append(created, cur), true
				if err := r.setCreated(created); err != nil {
					return fmt.Errorf("nethost: record mount point %s: %w", cur, err)
				}
			}
			if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return fmt.Errorf("nethost: create mount point %s: %w", cur, err)
			}
		}
	}
	return nil
}

// removeIdleMountpoints removes the recorded directories (deepest first, only when empty) if no
// instance holds a live lease. The registry is locked.
func removeIdleMountpoints(r *registry) error {
	leases, err := r.leases()
	if err != nil {
		return err
	}
	for _, l := range leases {
		if r.live(l) {
			return nil
		}
	}
	created := r.created()
	for i := len(created) - 1; i >= 0; i-- {
		// Not empty means someone else put files there since: leave it (and its parents) alone.
		_ = os.Remove(created[i])
	}
	return r.setCreated(nil)
}
