package preflight

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// preflightPlaybook is the migration's first play as cni.yml runs it: the preflight on every node,
// then cilium_install's dry run with the operator's values.
const preflightPlaybook = `- name: Preflight
  hosts: k3s_cluster
  gather_facts: false
  any_errors_fatal: true
  become: true
  tasks:
    - name: Preflight | Check that the cluster can be migrated
      ansible.builtin.import_role:
        name: cni_preflight

    - name: Preflight | Dry-run the Cilium install
      ansible.builtin.import_role:
        name: cilium
        tasks_from: preflight
`

// modules are the modules the playbook calls (the ones this checkout has).
var modules = []string{"migration_state", "calico_remove", "cilium_install", "k3s_config_info"}

const testTimeout = 30 * time.Minute

// TestIntegrationPreflight runs the preflight against one lab: the tokens in K3s' config and in
// Cilium's values never show, and K3s' real configuration (drop-ins, the service's command line,
// unset keys) is what the preflight checks, and Cilium is pointed at the CNI dirs containerd reads.
func TestIntegrationPreflight(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (node hosts)")
	}
	cfg := lab.Defaults()
	cfg.Servers, cfg.Agents, cfg.Workloads = 1, 1, false
	l := labtest.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	r := &runner{t: t, lab: l, root: repoRoot(t), lib: library.Dir(t, modules...), dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(r.dir, "preflight.yml"), []byte(preflightPlaybook), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("secrets stay secret", func(t *testing.T) { testSecrets(ctx, t, r) })
	t.Run("the real K3s configuration", func(t *testing.T) { testK3sFlags(ctx, t, r) })
	t.Run("containerd's CNI dirs", func(t *testing.T) { testCNIDirs(ctx, t, r) })
}

// runner runs the playbook against the lab as an operator would, from the repository root.
type runner struct {
	t    *testing.T
	lab  *lab.Lab
	root string
	lib  string
	dir  string
}

func (r *runner) run(ctx context.Context, t *testing.T, p playbook.Params) (*playbook.Result, error) {
	t.Helper()
	p.Dir, p.Inventory, p.Library = r.root, r.lab.InventoryPath(), []string{r.lib}
	p.RolesPath, p.Playbook = []string{filepath.Join(r.root, "roles")}, filepath.Join(r.dir, "preflight.yml")
	res, err := playbook.Run(ctx, p)
	if res == nil {
		t.Fatalf("ansible-playbook did not run: %v", err)
	}
	return res, err
}

// server is the lab's first server, where the cluster-wide tasks run.
func (r *runner) server() lab.Node {
	for _, n := range r.lab.Nodes() {
		if n.Role == lab.RoleServer {
			return n
		}
	}
	r.t.Fatal("the lab has no server")
	return lab.Node{}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// stage writes files on a node host for one case (path on the node → content; "" removes the
// file) and puts back what was there when the case ends.
func (r *runner) stage(t *testing.T, node string, files map[string]string) {
	t.Helper()
	for path, body := range files {
		p := r.lab.HostPath(node, path)
		if p == "" {
			t.Fatalf("node %s has no host", node)
		}
		old, err := os.ReadFile(p)
		existed := err == nil
		t.Cleanup(func() {
			if existed {
				_ = os.WriteFile(p, old, 0o600)
			} else {
				_ = os.Remove(p)
			}
		})
		if body == "" {
			_ = os.Remove(p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// k3sConfig reads a node's K3s config as the lab wrote it.
func (r *runner) k3sConfig(t *testing.T, node string) string {
	t.Helper()
	b, err := os.ReadFile(r.lab.HostPath(node, defaults.K3sConfigFile))
	if err != nil {
		t.Fatalf("the lab wrote no K3s config on %s: %v", node, err)
	}
	return string(b)
}
