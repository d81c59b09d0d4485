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
	doc, err := os.ReadFile(filepath.Join("..", "..", "library", "pod_restart.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if drift := ansible.SidecarDrift(spec, doc); len(drift) > 0 {
		t.Errorf("library/pod_restart.yml disagrees with the Go spec:\n%s", strings.Join(drift, "\n"))
	}
}

// Bad input fails with a clear message before any cluster is contacted (the kubeconfig points nowhere).
func TestBadInputFailsBeforeTouchingTheCluster(t *testing.T) {
	cases := []struct {
		name string
		args map[string]any
		want string
	}{
		{"unknown kind", map[string]any{"kinds": []string{"CronJob"}}, "value of kinds must be one or more of"},
		{"malformed selector", map[string]any{"label_selector": "app in (a"}, "label_selector"},
		{"malformed timestamp", map[string]any{"strategy": "created_before", "created_before": "yesterday"}, "RFC 3339"},
		{"missing timestamp", map[string]any{"strategy": "created_before"}, "created_before is missing"},
		{"parallelism zero", map[string]any{"parallelism": 0}, "parallelism must be at least 1"},
		{"bad cidr", map[string]any{"target_cidrs": []string{"10.245.0.0/33"}}, "target_cidrs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.args["kubeconfig"] = filepath.Join(t.TempDir(), "missing")
			out := runModule(t, tc.args)
			if out["failed"] != true || !strings.Contains(out["msg"].(string), tc.want) {
				t.Fatalf("want failure mentioning %q, got %v", tc.want, out)
			}
			if strings.Contains(out["msg"].(string), "kubeconfig") {
				t.Errorf("input was not validated before the kubeconfig was read: %v", out["msg"])
			}
		})
	}
}

func runModule(t *testing.T, args map[string]any) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	b, _ := json.Marshal(args)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	ansible.Run(context.Background(), []string{"pod_restart", path}, &stdout, spec, run)
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("module output is not one JSON object: %v\n%s", err, stdout.String())
	}
	return out
}
