// Package debpkg installs the Debian packages a harness needs when their commands are missing:
// `apt-get update` once per process, then `apt-get install -y`. Nothing else is ever downloaded.
package debpkg

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
)

// Need maps a command (a name looked up in PATH, or an absolute path) to the Debian package that
// provides it.
type Need map[string]string

var (
	mu      sync.Mutex
	updated bool
)

// Missing returns the packages whose command is not installed, sorted and de-duplicated.
func Missing(need Need) []string {
	set := map[string]bool{}
	for cmd, pkg := range need {
		if !installed(cmd) {
			set[pkg] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func installed(cmd string) bool {
	if strings.HasPrefix(cmd, "/") {
		st, err := os.Stat(cmd)
		return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
	}
	_, err := exec.LookPath(cmd)
	return err == nil
}

// Ensure installs the packages of every missing command with apt-get (as root). It runs
// `apt-get update` at most once per process, and waits for other apt/dpkg runs instead of failing.
func Ensure(ctx context.Context, need Need) error {
	mu.Lock()
	defer mu.Unlock()
	pkgs := Missing(need)
	if len(pkgs) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("debpkg: missing packages %s and not root: install them with apt-get", strings.Join(pkgs, ", "))
	}
	if !updated {
		if err := apt(ctx, "update"); err != nil {
			return err
		}
		updated = true
	}
	if err := apt(ctx, append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)...); err != nil {
		return err
	}
	if still := Missing(need); len(still) > 0 {
		return fmt.Errorf("debpkg: installed %s but commands are still missing (packages %s)", strings.Join(pkgs, ", "), strings.Join(still, ", "))
	}
	return nil
}

func apt(ctx context.Context, args ...string) error {
	argv := append([]string{"-o", "DPkg::Lock::Timeout=300", "-q"}, args...)
	cmd := exec.CommandContext(ctx, "apt-get", argv...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("debpkg: apt-get %s: %w\n%s", strings.Join(args, " "), err, tail(out.String(), 2000))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
