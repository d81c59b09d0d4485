package node_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/calico/calicotest"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// inspectPlaybook prints what a node holds, through Ansible itself.
const inspectPlaybook = `- name: Inspect
  hosts: all
  gather_facts: false
  tasks:
    - name: Inspect | node state
      ansible.builtin.shell: |
        ls -a /etc/cni/net.d /opt/cni/bin /var/lib/calico /var/run/calico /var/log/calico
        ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
        ip route show table all | grep -v '^local\|^broadcast'
        ipset list -n | sort
        iptables-nft-save 2>/dev/null | grep -v '^#'; iptables-legacy-save 2>/dev/null | grep -v '^#'
        true  # the output is what is checked; grep finding nothing is not a failure
      changed_when: false
`

// TestIntegrationLabNodesOverSSH cleans the lab's node hosts — the leftovers the lab models on a
// real Calico node — with ansible-playbook over SSH.
func TestIntegrationLabNodesOverSSH(t *testing.T) {
	requireRootAndTools(t, "ansible-playbook")
	cfg := lab.Defaults()
	cfg.Calico, cfg.Workloads = lab.CalicoManifest, false
	l := labtest.Start(t, cfg)
	bin := calicotest.Module(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir := t.TempDir()
	for name, body := range map[string]string{"cleanup.yml": cleanupPlaybook, "inspect.yml": inspectPlaybook} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(pb string, check bool) *playbook.Result {
		res, err := playbook.Run(ctx, playbook.Params{Dir: dir, Inventory: l.InventoryPath(), Playbook: filepath.Join(dir, pb),
			Library: []string{filepath.Dir(bin)}, Check: check, Diff: true, Output: testWriter{t}})
		if err != nil {
			t.Fatalf("%s (check=%v): %v", pb, check, err)
		}
		return res
	}
	inspect := func() map[string]string {
		out := map[string]string{}
		res := run("inspect.yml", false)
		for _, n := range l.Nodes() {
			hr, ok := res.HostResult("Inspect | node state", n.Name)
			if !ok {
				t.Fatalf("no inspection of %s", n.Name)
			}
			out[n.Name], _ = hr.Result["stdout"].(string)
		}
		return out
	}
	before := inspect()
	for name, s := range before {
		if !strings.Contains(s, "10-calico.conflist") || !strings.Contains(s, "vxlan.calico") || !strings.Contains(s, "cali-") {
			t.Fatalf("lab host %s does not look like a Calico node:\n%s", name, s)
		}
	}
	hosts := len(l.Nodes())
	if res := run("cleanup.yml", true); res.Totals().Changed != hosts {
		t.Errorf("--check: %d hosts changed, want %d", res.Totals().Changed, hosts)
	}
	if after := inspect(); !equalMaps(before, after) {
		t.Errorf("--check changed the hosts")
	}
	if res := run("cleanup.yml", false); res.Totals().Changed != hosts {
		t.Errorf("run: %d hosts changed, want %d", res.Totals().Changed, hosts)
	}
	for name, s := range inspect() {
		for _, gone := range []string{"10-calico.conflist", "calico-kubeconfig", "calico-tls", "calico-ipam", "nodename",
			"vxlan.calico", "proto bird", "proto 80", "cali40", "cali-", "cali:"} {
			if strings.Contains(s, gone) {
				t.Errorf("%s: %q is still there", name, gone)
			}
		}
		for _, kept := range []string{"bandwidth", "host-local", "loopback", "portmap", "eth0"} {
			if !strings.Contains(s, kept) {
				t.Errorf("%s: %q was removed", name, kept)
			}
		}
	}
	if res := run("cleanup.yml", false); res.Totals().Changed != 0 {
		t.Errorf("second run: %d changed, want 0", res.Totals().Changed)
	}
}
