package node_test

import (
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/calico/calicotest"
)

// bgpRoutes gives a host an uplink and the routes a BIRD peering with a router leaves: a default
// route and a route to another network, both with BIRD's protocol and neither of them Calico's, next
// to Calico's own block routes (a blackhole for the node's block, another node's block via BGP).
const bgpRoutes = `set -e
ip link add eth0 type veth peer name uplink0
ip addr add 192.168.50.2/24 dev eth0
ip -6 addr add fd00::2/64 dev eth0 nodad
ip link set eth0 up; ip link set uplink0 up
ip route add default via 192.168.50.1 proto bird
ip -6 route add default via fd00::1 proto bird
ip route add 203.0.113.0/24 via 192.168.50.1 proto bird
ip route add blackhole 10.42.1.0/26 proto bird
ip route add 10.42.2.0/26 via 192.168.50.3 dev eth0 proto 80
`

const routeTable = `ip route show table all; ip -6 route show table all`

// TestIntegrationNodeCleanupTouchesOnlyCalicosRoutes: BIRD's protocol does not make a route
// Calico's. Without Calico's pool CIDRs no route is removed; with them, only the routes inside.
func TestIntegrationNodeCleanupTouchesOnlyCalicosRoutes(t *testing.T) {
	requireRootAndTools(t, "ip", "nsenter", "unshare", "iptables-nft")
	bin := calicotest.Module(t)
	h := newTestHost(t)
	h.sh(t, bgpRoutes)
	foreign := []string{"default via 192.168.50.1 dev eth0 proto bird", "default via fd00::1 dev eth0 proto bird",
		"203.0.113.0/24 via 192.168.50.1 dev eth0 proto bird"}
	calicos := []string{"blackhole 10.42.1.0/26 proto bird", "10.42.2.0/26 via 192.168.50.3 dev eth0 proto 80"}

	res := calicotest.Run(t, bin, map[string]any{"scope": "node"}, h.enter()...)
	if res.Failed() || res.Changed() || !strings.Contains(res.Msg(), "no pool_cidrs given") {
		t.Errorf("without pool_cidrs: want changed=false and a message saying route removal was refused, got %v", res)
	}
	assertRoutes(t, h.sh(t, routeTable), append(append([]string{}, foreign...), calicos...), nil)

	pools := map[string]any{"scope": "node", "pool_cidrs": []string{"10.42.0.0/16"}}
	res = calicotest.Run(t, bin, pools, h.enter()...)
	if res.Failed() || !res.Changed() {
		t.Fatalf("with pool_cidrs: want changed and not failed: %v", res)
	}
	assertRoutes(t, h.sh(t, routeTable), foreign, calicos)
	if kept := res.List("routes_kept"); len(kept) != len(foreign) {
		t.Errorf("routes_kept lists %d routes, want the %d left in place: %v", len(kept), len(foreign), kept)
	}
	if res = calicotest.Run(t, bin, pools, h.enter()...); res.Failed() || res.Changed() {
		t.Errorf("rerun: want changed=false: %v", res)
	}
}

func assertRoutes(t *testing.T, table string, present, absent []string) {
	t.Helper()
	for _, r := range present {
		if !strings.Contains(table, r) {
			t.Errorf("route %q was removed; routes left:\n%s", r, table)
		}
	}
	for _, r := range absent {
		if strings.Contains(table, r) {
			t.Errorf("Calico's route %q is still there", r)
		}
	}
}

// TestIntegrationNodeCleanupBusyIPSet: an ipset that someone else's rule still uses cannot go. The
// run fails naming that rule, and reports changed=false, since it removed nothing.
func TestIntegrationNodeCleanupBusyIPSet(t *testing.T) {
	requireRootAndTools(t, "ip", "nsenter", "unshare", "iptables-nft", "ipset")
	bin := calicotest.Module(t)
	h := newTestHost(t)
	rule := "-A INPUT -s 192.0.2.0/24 -m set --match-set cali40all-ipam-pools src -j ACCEPT"
	h.sh(t, "set -e; ipset create cali40all-ipam-pools hash:net; iptables-nft "+rule)
	before := h.sh(t, "ipset list -n; iptables-nft -S INPUT")

	res := calicotest.Run(t, bin, map[string]any{"scope": "node", "pool_cidrs": []string{"10.42.0.0/16"}}, h.enter()...)
	if !res.Failed() {
		t.Fatalf("want a failure: the ipset is in use: %v", res)
	}
	if res.Changed() {
		t.Errorf("nothing was removed, yet changed=true: %v", res)
	}
	if !strings.Contains(res.Msg(), rule) || !strings.Contains(res.Msg(), "iptables-nft filter") {
		t.Errorf("the failure does not name the rule that holds the ipset (%q in iptables-nft filter): %s", rule, res.Msg())
	}
	if after := h.sh(t, "ipset list -n; iptables-nft -S INPUT"); after != before {
		t.Errorf("the foreign rule or the set changed:\n%s\nvs\n%s", before, after)
	}
}
