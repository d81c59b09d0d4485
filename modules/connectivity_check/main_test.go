package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible/ansibletest"
)

func TestSidecarMatchesSpec(t *testing.T) {
	ansibletest.CheckSidecar(t, spec)
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
			res, _ := ansibletest.Run(t, spec, handle, tt.args)
			if res["failed"] != true || !strings.Contains(fmt.Sprint(res["msg"]), tt.want) {
				t.Errorf("result %v, want failed with %q", res, tt.want)
			}
		})
	}
}
