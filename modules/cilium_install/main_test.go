package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible/ansibletest"
)

func TestSidecarMatchesSpec(t *testing.T) {
	ansibletest.CheckSidecar(t, spec)
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
		{"timeout not in seconds", map[string]any{"timeout": "5m"}, "argument 'timeout' is of type <class 'str'> and we were unable to convert to int"},
		{"zero timeout", map[string]any{"timeout": 0}, "timeout must be a positive number of seconds, got 0"},
		{"missing kubeconfig", map[string]any{"kubeconfig": filepath.Join(dir, "nope")}, "no such file"},
		{"unreachable API server", map[string]any{"kubeconfig": kubeconfig}, "cannot reach the Kubernetes API server https://127.0.0.1:1"},
		{"unknown verify", map[string]any{"verify": "maybe"}, "value of verify must be one of: auto, always, never, got: maybe"},
		{"verify always without keyring", map[string]any{"verify": "always", "kubeconfig": kubeconfig}, "verify=always needs keyring"},
		{"unknown option", map[string]any{"chart": "x"}, "Unsupported parameters for (cilium_install) module: chart."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := ansibletest.Run(t, spec, handle, tc.args)
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

// Helm values can hold secrets (a TLS key, a password in extraEnv). Neither the values nor a
// kubeconfig pasted where its path belongs may come back in what Ansible prints at -v and records
// in callback plugins: not in invocation, msg, warnings or anywhere else in the result.
func TestSecretsNeverEchoed(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(unreachableKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	const secret = "K10c0ffee-not-for-logs::server:0123456789abcdef"
	values := map[string]any{
		"hubble":   map[string]any{"tls": map[string]any{"server": map[string]any{"key": secret}}},
		"extraEnv": []any{map[string]any{"name": "DB_PASSWORD", "value": secret}},
	}
	cases := []struct {
		name string
		args map[string]any
	}{
		{"values", map[string]any{"values": values, "kubeconfig": kubeconfig}},
		{"values under their alias", map[string]any{"release_values": values, "kubeconfig": kubeconfig}},
		{"values with bad input", map[string]any{"release_values": values, "mode": "replace"}},
		{"kubeconfig contents as its path", map[string]any{"kubeconfig": strings.ReplaceAll(unreachableKubeconfig, "token: t", "token: "+secret)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := ansibletest.Run(t, spec, handle, tc.args)
			if res["failed"] != true {
				t.Fatalf("want a failure (nothing to reach), got %v", res)
			}
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), secret) || strings.Contains(string(b), "not-for-logs") {
				t.Errorf("the secret is in the module's result:\n%s", b)
			}
		})
	}
}
