// Package calicotest runs the calico_remove module the way Ansible does, for the integration
// tests of package calico's sub-packages: it takes the binary make build left in library/, writes
// the task's options to an args file and parses the one JSON object the module prints.
package calicotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
)

var (
	copyOnce sync.Once
	binPath  string
	copyErr  error
)

// Module returns a copy of library/calico_remove (as make build left it, checked current) in one
// world-readable dir under the temp dir, shared by test processes, so that a module run as another
// user can execute it. Each process copies to a temp file renamed over the binary: a process still
// running the old one is unharmed and at most one binary is ever left behind.
func Module(t testing.TB) string {
	t.Helper()
	src := library.Binary(t, "calico_remove")
	copyOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "cnimigrate-calico_remove-bin")
		if copyErr = os.MkdirAll(dir, 0o755); copyErr != nil {
			return
		}
		if copyErr = os.Chmod(dir, 0o755); copyErr != nil {
			return
		}
		binPath = filepath.Join(dir, "calico_remove")
		tmp := fmt.Sprintf("%s.copy-%d", binPath, os.Getpid())
		if copyErr = copyFile(src, tmp); copyErr != nil {
			_ = os.Remove(tmp)
			return
		}
		copyErr = os.Rename(tmp, binPath)
	})
	if copyErr != nil {
		t.Fatalf("copy calico_remove for the tests: %v", copyErr)
	}
	return binPath
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Result is a module's JSON result.
type Result map[string]any

// Changed, Failed and Msg read the common keys.
func (r Result) Changed() bool { b, _ := r["changed"].(bool); return b }
func (r Result) Failed() bool  { b, _ := r["failed"].(bool); return b }
func (r Result) Msg() string   { s, _ := r["msg"].(string); return s }

// List returns a result key that holds a list (nil when absent).
func (r Result) List(key string) []any { l, _ := r[key].([]any); return l }

// Run writes opts to an args file and runs `<prefix...> <binary> <args file>`, as Ansible runs a
// binary module (prefix lets a test enter namespaces or drop privileges first). The args file is
// world-readable so that a module run as another user can read it.
func Run(t testing.TB, bin string, opts map[string]any, prefix ...string) Result {
	t.Helper()
	dir, err := os.MkdirTemp("", "calico_remove-args-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(opts)
	if err != nil {
		t.Fatal(err)
	}
	argsFile := filepath.Join(dir, "args")
	if err := os.WriteFile(argsFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	argv := append(append(append([]string{}, prefix...), bin), argsFile)
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%s: output is not one JSON object (%v): %q, stderr %q, exit %v",
			strings.Join(argv, " "), err, stdout.String(), stderr.String(), runErr)
	}
	if res.Failed() != (runErr != nil) {
		t.Errorf("failed=%v but exit status %v", res.Failed(), runErr)
	}
	return res
}
