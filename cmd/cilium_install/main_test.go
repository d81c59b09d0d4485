package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
)

func TestSidecarMatchesSpec(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "library", "cilium_install.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if drift := ansible.SidecarDrift(spec, doc); len(drift) > 0 {
		t.Errorf("library/cilium_install.yml disagrees with the Go spec:\n%s", strings.Join(drift, "\n"))
	}
}

// Bad input fails with a clear message and touches no cluster (the kubeconfig points nowhere).
func TestBadInputFailsClearly(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(unreachableKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args map[string]any
		want string
	}{
		{"unknown mode", map[string]any{"mode": "replace"}, "value of mode must be one of: fresh, migration, finalize, got: replace"},
		{"malformed CIDR", map[string]any{"pod_cidr": "10.245.0.0/99", "kubeconfig": kubeconfig}, "pod_cidr: \"10.245.0.0/99\" is not a CIDR"},
		{"bad timeout", map[string]any{"timeout": "soon"}, "timeout \"soon\" is not a positive duration"},
		{"missing kubeconfig", map[string]any{"kubeconfig": filepath.Join(dir, "nope")}, "no such file"},
		{"unreachable API server", map[string]any{"kubeconfig": kubeconfig}, "cannot reach the Kubernetes API server https://127.0.0.1:1"},
		{"unknown option", map[string]any{"chart": "x"}, "Unsupported parameters for (cilium_install) module: chart."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runModule(t, tc.args)
			if res["failed"] != true || !strings.Contains(res["msg"].(string), tc.want) {
				t.Errorf("result %v; want failure with %q", res, tc.want)
			}
			if res["changed"] == true {
				t.Error("a failed validation reported changed")
			}
		})
	}
}

const unreachableKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`

func runModule(t *testing.T, args map[string]any) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	b, _ := json.Marshal(args)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	ansible.Run(context.Background(), []string{"cilium_install", path}, &stdout, spec, handle)
	var res map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("module output is not one JSON object: %v\n%s", err, stdout.String())
	}
	return res
}
