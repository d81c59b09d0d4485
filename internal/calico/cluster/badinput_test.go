package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/calico/calicotest"
)

// unreachableKubeconfig points at a port nothing listens on.
const unreachableKubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`

func TestIntegrationModuleBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module binary")
	}
	bin := calicotest.Module(t)
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	mustNot(t, os.WriteFile(kubeconfig, []byte(unreachableKubeconfig), 0o600))
	cases := []struct {
		name string
		opts map[string]any
		want string
	}{
		{"no backup_dir", map[string]any{"scope": "cluster", "kubeconfig": kubeconfig}, "backup_dir is required"},
		{"API unreachable", map[string]any{"scope": "cluster", "kubeconfig": kubeconfig, "backup_dir": filepath.Join(dir, "b")},
			"nothing was removed"},
		{"restore without a backup", map[string]any{"scope": "cluster", "kubeconfig": kubeconfig, "restore": true,
			"backup_dir": filepath.Join(dir, "empty")}, "manifest"},
		{"node options with scope=cluster", map[string]any{"scope": "cluster", "kubeconfig": kubeconfig,
			"backup_dir": dir, "cni_conf_dir": "/etc/cni/net.d"}, "scope=node only"},
		{"bad scope", map[string]any{"scope": "everything"}, "value of scope must be one of"},
		{"unknown option", map[string]any{"scope": "node", "colour": "blue"}, "Unsupported parameters"},
		{"zero timeout", map[string]any{"scope": "cluster", "backup_dir": dir, "timeout": 0}, "timeout must be"},
		{"restore and backup_only", map[string]any{"scope": "cluster", "backup_dir": dir, "restore": true, "backup_only": false},
			"parameters are mutually exclusive: restore|backup_only"},
	}
	for _, c := range cases {
		res := calicotest.Run(t, bin, c.opts)
		if !res.Failed() || !strings.Contains(res.Msg(), c.want) {
			t.Errorf("%s: want a failure saying %q, got %v", c.name, c.want, res)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !os.IsNotExist(err) {
		t.Error("a failed run created its backup dir")
	}
}
