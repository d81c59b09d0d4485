package preflight

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// limitInventory is a cluster of three hosts that Ansible reaches without SSH; its kubeconfig
// points nowhere, so any task that reaches for the cluster fails, and says so.
const limitInventory = `k3s_cluster:
  children:
    servers:
      hosts:
        server-1:
    agents:
      hosts:
        agent-1:
        agent-2:
  vars:
    ansible_connection: local
    ansible_become: false
    ansible_python_interpreter: python3
    k3s_kubeconfig: /nonexistent/cnimigrate-limit/kubeconfig
`

// TestIntegrationLimitRefusesCluster: a migration or rollback run with --limit on part of the
// cluster stops before it reaches the cluster, naming the hosts left out; cluster-wide phases are
// never recorded as complete when only some nodes ran them. It runs the real playbooks with the
// modules make build put in library/ (the refusal must come before any of them runs).
func TestIntegrationLimitRefusesCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-playbook")
	}
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("needs ansible-playbook")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	root, dir := repoRoot(t), t.TempDir()
	inv := filepath.Join(dir, "hosts.yml")
	if err := os.WriteFile(inv, []byte(limitInventory), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(root, "library")
	if _, err := os.Stat(filepath.Join(lib, "migration_state")); err != nil {
		t.Fatalf("module binaries missing in library/: run `make build` first (%v)", err)
	}
	cases := []struct {
		name, book, limit string
		vars              map[string]any
	}{
		{"migration, one agent left out", "playbooks/site.yml", "server-1,agent-1", map[string]any{"cni_provider": "cilium", "cluster_state": "present"}},
		{"rollback, only the servers", "playbooks/rollback.yml", "servers", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := playbook.Run(ctx, playbook.Params{Dir: root, Inventory: inv, Playbook: c.book, Tags: []string{"cni"},
				Limit: c.limit, ExtraVars: c.vars, Library: []string{lib}})
			if res == nil {
				t.Fatalf("ansible-playbook did not run: %v", err)
			}
			if err == nil {
				t.Fatalf("the run with --limit %s succeeded", c.limit)
			}
			t.Logf("refused: %v", err)
			for _, want := range []string{"Stop if --limit", "agent-2"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the refusal does not say %q: %v", want, err)
				}
			}
			for _, p := range res.Plays {
				for _, task := range p.Tasks {
					for host, hr := range task.Hosts {
						if strings.HasSuffix(task.Action, "migration_state") && !hr.Skipped() {
							t.Errorf("task %q (migration_state) ran on %s: the cluster was reached before the refusal", task.Name, host)
						}
					}
				}
			}
		})
	}
}
