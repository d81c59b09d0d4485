// Package ansibletest runs a module's handler in-process the way Ansible runs the module's binary
// (an args file in, one JSON object out), and checks a module's sidecar doc against its spec. Every
// module's own tests use it; tests that need the built binary use internal/testbed/library.
package ansibletest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
)

// Run writes args to an args file, runs the module in-process through ansible.Run, as its binary's
// main does, and returns the JSON object it printed and its exit code. Output that is not exactly
// one JSON object fails the test.
func Run(t testing.TB, spec ansible.Spec, h ansible.Handler, args map[string]any) (map[string]any, int) {
	t.Helper()
	data, err := json.Marshal(args)
	if err != nil {
		t.Fatalf("encode module args: %v", err)
	}
	path := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := ansible.Run(context.Background(), []string{spec.Name, path}, &out, spec, h)
	var res map[string]any
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("%s printed %q, not one JSON object (%v)", spec.Name, out.String(), err)
	}
	return res, code
}

// CheckSidecar fails the test for every disagreement between library/<module>.yml (what
// ansible-doc shows users) and the module's spec (what the module accepts).
func CheckSidecar(t testing.TB, spec ansible.Spec) {
	t.Helper()
	path := filepath.Join(library.Root(), "library", spec.Name+".yml")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sidecar of %s: %v", spec.Name, err)
	}
	for _, problem := range ansible.SidecarDrift(spec, doc) {
		t.Errorf("%s: %s", path, problem)
	}
}
