package node_test

import (
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/calico/calicotest"
)

// bpfPins gives the host a bpffs stand-in (a tmpfs over /sys/fs/bpf, in the host's own mount
// namespace) holding what Cilium's agent pins (tc globals cilium_*, the cilium dir) next to what
// Calico's eBPF dataplane pins (cali_* globals, the calico dir), which must survive.
const bpfPins = `set -e
mount -t tmpfs tmpfs /sys/fs/bpf
mkdir -p /sys/fs/bpf/tc/globals /sys/fs/bpf/cilium/devices/cilium_host/links /sys/fs/bpf/calico/xdp
touch /sys/fs/bpf/tc/globals/cilium_lxc /sys/fs/bpf/tc/globals/cilium_ipcache /sys/fs/bpf/tc/globals/cilium_calls_00042
touch /sys/fs/bpf/cilium/devices/cilium_host/links/cil_to_host
touch /sys/fs/bpf/tc/globals/cali_v4_routes /sys/fs/bpf/calico/xdp/prefilter_v1
ip link add lxc_health type veth peer name peer3
cd /var/lib/cnitest/net.d && echo '{}' > 10-calico.conflist.cilium_bak
`

const bpfSnapshot = `echo "## bpf"; find /sys/fs/bpf | sort`

// TestIntegrationNodeCleanupCilium: after a rollback, cni=cilium takes every Cilium leftover off
// the node (links, CILIUM_* chains and the rules feeding them, its ipsets, BPF pins, CNI config and
// plugin) and nothing of Calico's or Kubernetes'; check mode changes nothing, a rerun changes nothing.
func TestIntegrationNodeCleanupCilium(t *testing.T) {
	requireRootAndTools(t, "ip", "nsenter", "unshare", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy", "ipset", "nft")
	bin := calicotest.Module(t)
	h := newTestHost(t)
	h.sh(t, populate)
	h.sh(t, bpfPins)
	before := h.sh(t, snapshot+bpfSnapshot)
	args := map[string]any{"scope": "node", "cni": "cilium"}

	res := calicotest.Run(t, bin, with(args, map[string]any{"_ansible_check_mode": true, "_ansible_diff": true}), h.enter()...)
	if res.Failed() || !res.Changed() {
		t.Fatalf("check mode: want changed, not failed: %v", res)
	}
	planned := names(res.List("plan"))
	for _, want := range []string{"link cilium_host", "link cilium_net", "link cilium_vxlan", "link lxc123", "link lxc_health",
		"iptables-chain CILIUM_INPUT", "iptables-chain CILIUM_FORWARD", "ipset cilium_node_set_v4",
		"path /var/lib/cnitest/net.d/05-cilium.conflist", "path /var/lib/cnitest/bin/cilium-cni",
		"path /sys/fs/bpf/tc/globals/cilium_lxc", "path /sys/fs/bpf/cilium"} {
		if !planned[want] {
			t.Errorf("check mode plan lacks %q", want)
		}
	}
	for item := range planned {
		if strings.Contains(item, "cali") || strings.Contains(item, "KUBE-") || strings.Contains(item, "tunl0") {
			t.Errorf("Cilium's plan touches a foreign object: %s", item)
		}
	}
	if after := h.sh(t, snapshot+bpfSnapshot); after != before {
		t.Fatalf("check mode changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	res = calicotest.Run(t, bin, args, h.enter()...)
	if res.Failed() || !res.Changed() || len(res.List("not_removed")) != 0 {
		t.Fatalf("run: want changed, nothing left unremoved: %v", res)
	}
	after := h.sh(t, snapshot+bpfSnapshot)
	for _, gone := range []string{"cilium_host", "cilium_net", "cilium_vxlan", "lxc123", "lxc_health", "CILIUM_",
		"cilium-feeder", "10.245.0.0/24", "cilium_node_set_v4", "05-cilium.conflist", "cilium-cni",
		"/sys/fs/bpf/tc/globals/cilium_", "/sys/fs/bpf/cilium"} {
		if strings.Contains(after, gone) {
			t.Errorf("after the run %q is still on the node", gone)
		}
	}
	for _, kept := range []string{"cali1a2b3c4d", "vxlan.calico", "-N cali-FORWARD", "cali:wUHhoiAYhphO9Mso",
		"-N KUBE-FORWARD", "-j KUBE-POSTROUTING", "cali40all-ipam-pools", "table ip calico", "blackhole 10.42.1.0/26",
		"cali-7f3e9a", "10-calico.conflist\n", "10-calico.conflist.cilium_bak", "calico-tls", "bin/calico-ipam",
		"/var/lib/calico", "/sys/fs/bpf/tc/globals/cali_v4_routes", "/sys/fs/bpf/calico/xdp/prefilter_v1", "host-local"} {
		if !strings.Contains(after, kept) {
			t.Errorf("the run removed %q, which is not Cilium's", kept)
		}
	}

	res = calicotest.Run(t, bin, with(args, map[string]any{"_ansible_diff": true}), h.enter()...)
	if res.Failed() || res.Changed() || len(res.List("plan")) != 0 {
		t.Errorf("rerun: want changed=false and an empty plan: %v", res)
	}
}

func TestIntegrationNodeCleanupCiliumRefusesCalicoOptions(t *testing.T) {
	requireRootAndTools(t, "ip", "nsenter", "unshare", "iptables-nft")
	bin := calicotest.Module(t)
	h := newTestHost(t)
	res := calicotest.Run(t, bin, map[string]any{"scope": "node", "cni": "cilium", "pool_cidrs": []string{"10.42.0.0/16"}}, h.enter()...)
	if !res.Failed() || !strings.Contains(res.Msg(), "pool_cidrs apply to cni=calico only") {
		t.Errorf("pool_cidrs with cni=cilium: want a failure naming pool_cidrs, got %v", res)
	}
	res = calicotest.Run(t, bin, map[string]any{"scope": "cluster", "cni": "cilium", "backup_dir": "/tmp"}, h.enter()...)
	if !res.Failed() || !strings.Contains(res.Msg(), "cni=cilium applies to scope=node only") {
		t.Errorf("cni=cilium with scope=cluster: want a failure naming cni, got %v", res)
	}
}

func with(base, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
