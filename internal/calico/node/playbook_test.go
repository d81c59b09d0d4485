package node_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/calico/calicotest"
	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost/nethosttest"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// sshHostSetup gives a node host Calico's leftovers (standard CNI dirs, which the host bind-mounts)
// and Cilium's objects.
const sshHostSetup = `set -e
echo '{}' > /etc/cni/net.d/10-calico.conflist; echo k > /etc/cni/net.d/calico-kubeconfig
echo '{}' > /etc/cni/net.d/05-cilium.conflist
touch /opt/cni/bin/calico /opt/cni/bin/calico-ipam /opt/cni/bin/cilium-cni
echo n > /var/lib/calico/nodename
ip link add cali0a1b2c3d type veth peer name podeth0
ip link add vxlan.calico type vxlan id 4096 dstport 4789
ip link add cilium_host type veth peer name cilium_net
ip link add lxc0a1b type veth peer name podeth1
ip route add blackhole 10.42.7.0/26 proto bird
ipset create cali40all-ipam-pools hash:net
ipset create cilium_node_set_v4 hash:ip
for ipt in iptables-nft iptables-legacy; do
  $ipt -N cali-FORWARD; $ipt -A cali-FORWARD -m set --match-set cali40all-ipam-pools src -j ACCEPT
  $ipt -A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD
  $ipt -N CILIUM_FORWARD; $ipt -A FORWARD -j CILIUM_FORWARD
done 2>/dev/null
`

const sshHostState = `ls /etc/cni/net.d /opt/cni/bin /var/lib/calico; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
ip route show table all proto bird; ipset list -n | sort
for ipt in iptables-nft iptables-legacy; do $ipt -S 2>/dev/null; done`

const cleanupPlaybook = `- name: Calico | node cleanup
  hosts: all
  gather_facts: false
  tasks:
    - name: Calico | remove leftovers from the node
      calico_remove:
        scope: node
        pool_cidrs: [10.42.0.0/16]
`

func TestIntegrationNodeCleanupOverSSH(t *testing.T) {
	requireRootAndTools(t, "ansible-playbook", "iptables-nft", "iptables-legacy", "ipset")
	bin := calicotest.Module(t)
	hs := nethosttest.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	state := func() map[string]string {
		out := map[string]string{}
		for _, h := range hs.List() {
			s, err := hs.Exec(ctx, h.Name, "sh", "-c", sshHostState)
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			out[h.Name] = s
		}
		return out
	}
	for _, h := range hs.List() {
		if out, err := hs.Exec(ctx, h.Name, "sh", "-c", sshHostSetup); err != nil {
			t.Fatalf("%s: setup: %v %s", h.Name, err, out)
		}
	}
	dir := t.TempDir()
	pb := filepath.Join(dir, "cleanup.yml")
	if err := os.WriteFile(pb, []byte(cleanupPlaybook), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(check bool) *playbook.Result {
		res, err := playbook.Run(ctx, playbook.Params{Dir: dir, Inventory: hs.InventoryPath(), Playbook: pb,
			Library: []string{filepath.Dir(bin)}, Check: check, Diff: true, Output: testWriter{t}})
		if err != nil {
			t.Fatalf("ansible-playbook (check=%v): %v", check, err)
		}
		return res
	}
	before := state()
	if res := run(true); res.Totals().Changed != 2 {
		t.Errorf("--check: %d hosts changed, want 2 (%s)", res.Totals().Changed, res.Totals())
	}
	if after := state(); !equalMaps(before, after) {
		t.Errorf("--check changed the hosts:\n%v\n%v", before, after)
	}
	res := run(false)
	if res.Totals().Changed != 2 {
		t.Errorf("run: %d hosts changed, want 2", res.Totals().Changed)
	}
	for name, s := range state() {
		for _, gone := range []string{"10-calico.conflist", "calico-kubeconfig", "calico\n", "calico-ipam", "nodename",
			"cali0a1b2c3d", "vxlan.calico", "10.42.7.0", "cali40", "cali-", "cali:"} {
			if strings.Contains(s, gone) {
				t.Errorf("%s: %q is still there after the playbook", name, gone)
			}
		}
		for _, kept := range []string{"05-cilium.conflist", "cilium-cni", "cilium_host", "cilium_net", "lxc0a1b",
			"cilium_node_set_v4", "-A FORWARD -j CILIUM_FORWARD"} {
			if !strings.Contains(s, kept) {
				t.Errorf("%s: the playbook removed %q", name, kept)
			}
		}
	}
	if res := run(false); res.Totals().Changed != 0 {
		t.Errorf("second run: %d changed, want 0 (%s)", res.Totals().Changed, res.Totals())
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
