package connectivity

import (
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	p, err := Options{}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if p.CNI != "auto" || p.FailOn != "any" || p.Samples != 10 || p.Timeout != 5*time.Minute || p.ProbeTimeout != 5*time.Second {
		t.Errorf("defaults: %+v", p)
	}
	if len(p.healthEnabled()) != 6 || len(p.probesEnabled()) != 5 {
		t.Errorf("default checks must be every health check and every probe group: %v", p.Checks)
	}
	if p.Images.Client != defaults.ConnectivityClientImage || p.Images.Echo != defaults.ConnectivityEchoImage {
		t.Errorf("images %+v", p.Images)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unknown check names, with Ansible's sentence", Options{Checks: []string{"health", "pod2pod", "latency"}},
			"value of checks must be one or more of: health, probes, nodes, cni-agent, cni-pods, coredns, sandbox-errors, " +
				"service-endpoints, pod-to-pod, pod-to-service, dns, pod-to-external, policy. Got no match for: pod2pod, latency"},
		{"empty checks", Options{Checks: []string{}}, "checks is empty: name at least one of health, probes"},
		{"cni", Options{CNI: "flannel"}, "value of cni must be one of: calico, cilium, auto, got: flannel"},
		{"fail_on", Options{FailOn: "some"}, "value of fail_on must be one of: any, none, got: some"},
		{"external target without scheme", Options{ExternalTarget: ptr("1.1.1.1")}, `external_target must be an http:// or https:// URL`},
		{"external dns name", Options{ExternalDNSName: "not a name"}, `external_dns_name "not a name" is not a DNS name`},
		{"samples", Options{Samples: -3}, "samples must be between 1 and 1000, got -3"},
		{"misspelt toleration", Options{Tolerations: []map[string]any{{"key": "a", "efect": "NoSchedule"}}},
			`tolerations[0] is not a Kubernetes toleration`},
		{"unknown image key", Options{Images: map[string]any{"server": "x"}}, "images has unknown keys server; known keys: client, echo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.opts.Parse()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() = %v, want %q", err, tt.want)
			}
		})
	}
	_, err := Options{CNI: "x", Samples: 5000}.Parse()
	if err == nil || !strings.Contains(err.Error(), "cni") || !strings.Contains(err.Error(), "samples") {
		t.Errorf("every problem must be reported at once: %v", err)
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	p, err := Options{
		Checks:       []string{"health", "dns"},
		Images:       map[string]any{"client": "mirror.local/netshoot:v0.13"},
		Tolerations:  []map[string]any{{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}},
		NodeSelector: map[string]any{"gpu": true},
	}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if !p.Checks["coredns"] || !p.Checks["dns"] || p.Checks["policy"] || len(p.probesEnabled()) != 1 {
		t.Errorf("checks %v", p.Checks)
	}
	if p.Images.Client != "mirror.local/netshoot:v0.13" || p.Images.Echo != defaults.ConnectivityEchoImage {
		t.Errorf("an image not given keeps its default: %+v", p.Images)
	}
	if len(p.Tolerations) != 1 || p.Tolerations[0].Effect != "NoSchedule" || p.NodeSelector["gpu"] != "true" {
		t.Errorf("tolerations %+v, node selector %v", p.Tolerations, p.NodeSelector)
	}
}

func ptr(s string) *string { return &s }
