package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
)

func TestSidecarDrift(t *testing.T) {
	doc, err := os.ReadFile("../../library/connectivity_check.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ansible.SidecarDrift(spec, doc) {
		t.Error(p)
	}
}

// run invokes the module as Ansible does, with an args file, and returns its JSON result.
func run(t *testing.T, args map[string]any) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ansible.Run(context.Background(), []string{"connectivity_check", path}, &out, spec, handle)
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("module printed %q: %v", out.String(), err)
	}
	return res
}

func TestBadInputFailsWithAnsibleSentences(t *testing.T) {
	tests := []struct {
		name string
		args map[string]any
		want string
	}{
		{"unknown check name", map[string]any{"checks": []string{"health", "pod2pod"}},
			"value of checks must be one or more of: health, probes, nodes, cni-agent, cni-pods, coredns, " +
				"sandbox-errors, service-endpoints, pod-to-pod, pod-to-service, dns, pod-to-external, policy. Got no match for: pod2pod"},
		{"unknown option", map[string]any{"check": "health"}, "Unsupported parameters for (connectivity_check) module: check."},
		{"bad fail_on", map[string]any{"fail_on": "never"}, "value of fail_on must be one of: any, none, got: never"},
		{"unknown image key", map[string]any{"images": map[string]any{"server": "x"}}, "images has unknown keys server"},
		{"kubeconfig missing", map[string]any{"kubeconfig": "/nonexistent/kubeconfig"}, "kubeconfig /nonexistent/kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, tt.args)
			if res["failed"] != true || !strings.Contains(fmt.Sprint(res["msg"]), tt.want) {
				t.Errorf("result %v, want failed with %q", res, tt.want)
			}
		})
	}
}
