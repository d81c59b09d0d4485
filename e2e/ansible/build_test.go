package ansiblee2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
)

// fixture is the test-only module built alongside the real ones.
const fixture = "probe_file"

// discoverModules lists the modules in modules/ that have a library/<module>.yml sidecar; the others
// are still being written and are reported in notes.
func discoverModules(root string) (mods []string, notes []string, err error) {
	dirs, err := filepath.Glob(filepath.Join(root, "modules", "*"))
	if err != nil {
		return nil, nil, err
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		name := filepath.Base(d)
		if _, err := os.Stat(filepath.Join(d, "main.go")); err != nil {
			continue // modules/internal: code the modules share, not a module
		}
		if _, err := os.Stat(filepath.Join(root, "library", name+".yml")); err != nil {
			notes = append(notes, fmt.Sprintf("modules/%s has no library/%s.yml sidecar yet: not tested", name, name))
			continue
		}
		mods = append(mods, name)
	}
	sort.Strings(mods)
	return mods, notes, nil
}

// buildModules puts every module (as make build left it in library/, checked current) and the
// fixture (built here: it is not a product module) into lib, each beside its sidecar. It returns
// the sidecar path of each module.
func buildModules(ctx context.Context, t *testing.T, root, lib string, mods []string, log io.Writer) (map[string]string, error) {
	if err := os.MkdirAll(lib, 0o755); err != nil {
		return nil, err
	}
	built := library.Dir(t, mods...)
	sidecars := map[string]string{fixture: filepath.Join(root, "e2e", "ansible", "testdata", fixture, fixture+".yml")}
	for _, m := range mods {
		sidecars[m] = filepath.Join(root, "library", m+".yml")
		if err := os.Symlink(filepath.Join(built, m), filepath.Join(lib, m)); err != nil {
			return nil, err
		}
	}
	argv := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(lib, fixture), "./e2e/ansible/testdata/" + fixture}
	cmd := exec.CommandContext(ctx, "go", argv...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, log, log
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %v: %w", argv, err)
	}
	for m, src := range sidecars {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(lib, m+".yml"), b, 0o644); err != nil {
			return nil, err
		}
	}
	return sidecars, nil
}
