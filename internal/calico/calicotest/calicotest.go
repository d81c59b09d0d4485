// Package calicotest runs the calico_remove module the way Ansible does, for the integration
// tests of package calico's sub-packages: it builds the binary once per test process, writes the
// task's options to an args file and parses the one JSON object the module prints.
package calicotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// Module builds modules/calico_remove (once per test process) and returns the binary's path. The
// binary lives in one world-readable dir under the temp dir, shared by test processes: each build
// goes to a temp file renamed over the binary, so a process still running the old one is unharmed
// and at most one binary is ever left behind.
func Module(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "cnimigrate-calico_remove-bin")
		if buildErr = os.MkdirAll(dir, 0o755); buildErr != nil {
			return
		}
		if buildErr = os.Chmod(dir, 0o755); buildErr != nil {
			return
		}
		binPath = filepath.Join(dir, "calico_remove")
		tmp := fmt.Sprintf("%s.build-%d", binPath, os.Getpid())
		cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "github.com/cnimigrate/cnimigrate/modules/calico_remove")
		if buildOut, buildErr = cmd.CombinedOutput(); buildErr != nil {
			_ = os.Remove(tmp)
			return
		}
		buildErr = os.Rename(tmp, binPath)
	})
	if buildErr != nil {
		t.Fatalf("build calico_remove: %v\n%s", buildErr, buildOut)
	}
	return binPath
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
