package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible/ansibletest"
)

func TestSidecarMatchesSpec(t *testing.T) {
	ansibletest.CheckSidecar(t, spec)
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
			out, _ := ansibletest.Run(t, spec, run, tc.args)
			if out["failed"] != true || !strings.Contains(out["msg"].(string), tc.want) {
				t.Fatalf("want failure mentioning %q, got %v", tc.want, out)
			}
			if strings.Contains(out["msg"].(string), "kubeconfig") {
				t.Errorf("input was not validated before the kubeconfig was read: %v", out["msg"])
			}
		})
	}
}
