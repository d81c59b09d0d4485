package node_test

import (
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/calico/calicotest"
)

// populate builds a node as Calico leaves it once Cilium has taken over: Calico's files, links,
// routes, chains (two backends, four tables, both families), ipsets, nftables tables and a netns,
// next to Cilium's and K3s' objects that must survive. The containerd config names non-standard
// CNI dirs, so only discovery can find Calico's files.
const populate = `set -e
mkdir -p /var/lib/rancher/k3s/agent/etc/containerd /var/lib/cnitest/net.d /var/lib/cnitest/bin /run/calico /var/lib/mntsrc
mount --bind /var/lib/mntsrc /run/calico  # a mount point, as on the lab's node hosts: emptied, not removed
cat > /var/lib/rancher/k3s/agent/etc/containerd/config.toml <<'TOML'
version = 3
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/var/lib/cnitest/bin']
  conf_dir = '/var/lib/cnitest/net.d'
TOML
cd /var/lib/cnitest/net.d && echo '{}' > 10-calico.conflist && echo k > calico-kubeconfig && mkdir calico-tls && echo c > calico-tls/ca.crt && echo '{}' > 05-cilium.conflist
cd /var/lib/cnitest/bin && touch calico calico-ipam cilium-cni host-local
mkdir -p /var/lib/calico /var/log/calico/cni && echo n > /var/lib/calico/nodename && echo l > /var/log/calico/cni/cni.log && echo 1 > /var/run/calico/felix.pid
ip link add cali1a2b3c4d type veth peer name peer0
ip link add cali5e6f7a8b type veth peer name peer1
ip link add vxlan.calico type vxlan id 4096 dstport 4789
ip link add vxlan-v6.calico type vxlan id 4097 dstport 4789
ip addr add 10.42.1.0/32 dev vxlan.calico
ip link set vxlan.calico up; ip link set cali1a2b3c4d up
ip link add cilium_host type veth peer name cilium_net
ip link add cilium_vxlan type vxlan id 2 dstport 8473
ip link add lxc123 type veth peer name peer2
ip link set cilium_host up; ip addr add 10.245.0.1/32 dev cilium_host
ip route add blackhole 10.42.1.0/26 proto bird
ip route add 10.42.2.0/26 via 10.42.2.0 dev vxlan.calico onlink proto 80
ip route add blackhole 10.42.3.0/26 proto 80
ip route add 10.245.0.0/24 dev cilium_host
ip route add blackhole 192.0.2.0/24 proto static
ipset create cali40all-ipam-pools hash:net
ipset create cali40masq-ipam-pools hash:net
ipset create cali60all-ipam-pools hash:net family inet6
ipset create cilium_node_set_v4 hash:ip
for ipt in iptables-nft iptables-legacy; do
  for tc in filter:FORWARD nat:POSTROUTING mangle:PREROUTING raw:PREROUTING; do
    t=${tc%%:*}; c=${tc#*:}
    $ipt -t $t -N cali-$c
    $ipt -t $t -N cali-from-wl-dispatch
    $ipt -t $t -A cali-$c -j cali-from-wl-dispatch
    $ipt -t $t -A cali-from-wl-dispatch -m set --match-set cali40all-ipam-pools src -j RETURN
    $ipt -t $t -I $c -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-$c
    $ipt -t $t -N CILIUM_$c
    $ipt -t $t -A $c -m comment --comment "cilium-feeder: CILIUM_$c" -j CILIUM_$c
    $ipt -t $t -N KUBE-$c
    $ipt -t $t -A $c -m comment --comment "kubernetes rules" -j KUBE-$c
  done
  $ipt -t filter -A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m mark --mark 0x10000/0x10000 -j ACCEPT
  $ipt -t filter -N CILIUM_INPUT
  $ipt -t filter -A INPUT -j CILIUM_INPUT
done 2>/dev/null
for ipt in ip6tables-nft ip6tables-legacy; do
  $ipt -N cali-FORWARD
  $ipt -A cali-FORWARD -m set --match-set cali60all-ipam-pools src -j ACCEPT
  $ipt -A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD
  $ipt -N CILIUM_FORWARD
  $ipt -A FORWARD -j CILIUM_FORWARD
done 2>/dev/null
nft add table ip calico; nft add chain ip calico filter-FORWARD; nft add table ip6 calico; nft add table inet cilium
ip netns add cali-7f3e9a; ip netns add cni-keep
`

// snapshot prints everything the module may touch, section by section.
const snapshot = `
for ipt in iptables-nft iptables-legacy; do for t in filter nat mangle raw; do echo "## $ipt $t"; $ipt -t $t -S 2>/dev/null; done; done
for ipt in ip6tables-nft ip6tables-legacy; do echo "## $ipt filter"; $ipt -S 2>/dev/null; done
echo "## links"; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
echo "## routes"; ip route show table all | grep -v '^local\|^broadcast\|^multicast'; ip -6 route show table all | grep -v '^local\|^multicast\|^anycast' || true
echo "## ipsets"; ipset list -n | sort
echo "## nft"; nft list tables
echo "## netns"; ls /run/netns
echo "## files"; find /var/lib/cnitest /var/lib/calico /var/log/calico /run/calico 2>/dev/null | sort
mountpoint -q /run/calico && echo "run-calico-still-mounted"
`

func TestIntegrationNodeCleanup(t *testing.T) {
	requireRootAndTools(t, "ip", "nsenter", "unshare", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy", "ipset", "nft")
	bin := calicotest.Module(t)
	h := newTestHost(t)
	h.sh(t, populate)
	before := h.sh(t, snapshot)

	// Check mode: the full plan, nothing changed.
	pools := []string{"10.42.0.0/16"}
	res := calicotest.Run(t, bin, map[string]any{"scope": "node", "pool_cidrs": pools, "_ansible_check_mode": true, "_ansible_diff": true}, h.enter()...)
	if res.Failed() || !res.Changed() {
		t.Fatalf("check mode: want changed, not failed: %v", res)
	}
	assertPlan(t, res)
	if after := h.sh(t, snapshot); after != before {
		t.Fatalf("check mode changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Real run: every Calico item removed, nothing else.
	res = calicotest.Run(t, bin, map[string]any{"scope": "node", "pool_cidrs": pools}, h.enter()...)
	if res.Failed() || !res.Changed() {
		t.Fatalf("run: want changed and not failed: %v", res)
	}
	if len(res.List("not_removed")) != 0 || len(res.List("removed")) != len(res.List("plan")) {
		t.Errorf("removed %d of %d planned, not removed: %v", len(res.List("removed")), len(res.List("plan")), res.List("not_removed"))
	}
	after := h.sh(t, snapshot)
	assertOnlyCalicoGone(t, before, after)

	// Rerun: nothing left to do.
	res = calicotest.Run(t, bin, map[string]any{"scope": "node", "pool_cidrs": pools, "_ansible_diff": true}, h.enter()...)
	if res.Failed() || res.Changed() || len(res.List("plan")) != 0 {
		t.Errorf("rerun: want changed=false and an empty plan: %v", res)
	}
	if again := h.sh(t, snapshot); again != after {
		t.Errorf("rerun changed the node:\n%s\nvs\n%s", after, again)
	}
}

// assertPlan checks a check-mode result: every kind of Calico leftover planned, nothing foreign,
// and the plan shown as a diff.
func assertPlan(t *testing.T, res calicotest.Result) {
	t.Helper()
	planned := names(res.List("plan"))
	for _, want := range []string{
		"link cali1a2b3c4d", "link cali5e6f7a8b", "link vxlan.calico", "link vxlan-v6.calico",
		"route blackhole 10.42.1.0/26 proto bird table 254", "route blackhole 10.42.3.0/26 proto 80 table 254",
		"iptables-chain cali-FORWARD", "iptables-chain cali-POSTROUTING", "iptables-chain cali-from-wl-dispatch",
		"ipset cali40all-ipam-pools", "ipset cali60all-ipam-pools", "nft-table ip calico", "nft-table ip6 calico",
		"netns cali-7f3e9a", "path /var/lib/cnitest/net.d/10-calico.conflist", "path /var/lib/cnitest/net.d/calico-tls",
		"path /var/lib/cnitest/bin/calico-ipam", "path /var/lib/calico", "path /var/run/calico", "path /var/log/calico",
	} {
		if !planned[want] {
			t.Errorf("check mode plan lacks %q", want)
		}
	}
	for item := range planned {
		for _, foreign := range []string{"cilium", "CILIUM", "lxc", "KUBE-", "05-cilium", "cni-keep", "192.0.2.0", "host-local"} {
			if strings.Contains(item, foreign) && !strings.HasPrefix(item, "iptables-rule") {
				t.Errorf("plan touches a foreign object: %s", item)
			}
		}
	}
	if d, _ := res["diff"].(map[string]any); d == nil || !strings.Contains(d["before"].(string), "cali1a2b3c4d") {
		t.Errorf("check mode with --diff shows no plan: %v", res["diff"])
	}
}

// assertOnlyCalicoGone compares snapshots from before and after a run.
func assertOnlyCalicoGone(t *testing.T, before, after string) {
	t.Helper()
	for _, gone := range []string{"cali-", "cali:", "cali1a2b3c4d", "cali5e6f7a8b", "vxlan.calico", "vxlan-v6.calico",
		"10.42.1.0/26", "10.42.2.0/26", "10.42.3.0/26", "cali40", "cali60", "table ip calico", "table ip6 calico",
		"cali-7f3e9a", "10-calico.conflist", "calico-kubeconfig", "calico-tls", "bin/calico", "/var/lib/calico",
		"/var/log/calico", "/run/calico/"} {
		if strings.Contains(after, gone) {
			t.Errorf("after the run %q is still on the node", gone)
		}
	}
	for _, kept := range []string{"cilium_host", "cilium_net", "cilium_vxlan", "lxc123", "-N CILIUM_INPUT",
		"-A INPUT -j CILIUM_INPUT", "-N KUBE-FORWARD", "-j KUBE-POSTROUTING", "CILIUM_FORWARD", "10.245.0.0/24",
		"blackhole 192.0.2.0/24", "cilium_node_set_v4", "table inet cilium", "cni-keep", "05-cilium.conflist",
		"cilium-cni", "host-local", "run-calico-still-mounted"} {
		if !strings.Contains(after, kept) {
			t.Errorf("the run removed %q, which is not Calico's", kept)
		}
	}
	if n := strings.Count(after, "CILIUM_"); n != strings.Count(before, "CILIUM_") {
		t.Errorf("Cilium chain references went from %d to %d", strings.Count(before, "CILIUM_"), n)
	}
}

func TestIntegrationNodeRefusals(t *testing.T) {
	requireRootAndTools(t, "ip", "nsenter", "unshare", "setpriv", "iptables-nft")
	bin := calicotest.Module(t)
	h := newTestHost(t)
	h.sh(t, "ip link add cali00aa type veth peer name peer0; mkdir -p /var/lib/calico")
	before := h.sh(t, "ip -o link show; ls -d /var/lib/calico")

	res := calicotest.Run(t, bin, map[string]any{"scope": "node"},
		append(h.enter(), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")...)
	if !res.Failed() || !strings.Contains(res.Msg(), "root") {
		t.Errorf("run as nobody: want a failure naming root, got %v", res)
	}
	// No iptables binary anywhere: a clear failure before anything is removed.
	hide := "for d in /usr/sbin /usr/local/sbin /sbin /usr/bin; do mount -t tmpfs tmpfs $d 2>/dev/null || true; done"
	res = calicotest.Run(t, bin, map[string]any{"scope": "node"},
		append(h.enter(), "unshare", "-m", "sh", "-c", hide+`; exec "$0" "$@"`)...)
	if !res.Failed() || !strings.Contains(res.Msg(), "no iptables binary") {
		t.Errorf("without iptables: want a failure naming iptables, got %v", res)
	}
	res = calicotest.Run(t, bin, map[string]any{"scope": "node", "backup_dir": "/tmp"}, h.enter()...)
	if !res.Failed() || !strings.Contains(res.Msg(), "scope=cluster only") {
		t.Errorf("cluster options with scope=node: want a clear failure, got %v", res)
	}
	res = calicotest.Run(t, bin, map[string]any{"scope": "node", "pool_cidrs": []string{"0.0.0.0/0"}}, h.enter()...)
	if !res.Failed() || !strings.Contains(res.Msg(), "pool_cidrs") {
		t.Errorf("a pool CIDR covering every address: want a failure naming pool_cidrs, got %v", res)
	}
	if after := h.sh(t, "ip -o link show; ls -d /var/lib/calico"); after != before {
		t.Errorf("a refused run changed the node:\n%s\nvs\n%s", before, after)
	}
}

func names(items []any) map[string]bool {
	out := map[string]bool{}
	for _, i := range items {
		m, _ := i.(map[string]any)
		out[m["kind"].(string)+" "+m["name"].(string)] = true
	}
	return out
}
