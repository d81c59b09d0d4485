package node

import (
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

func cidr(t *testing.T, s string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// bgpHost holds routes with BIRD's and Felix's protocols: Calico's block routes, and routes that
// are not Calico's although they carry its protocols (a BGP-learned default route, a route to
// another network, an IPv6 default).
func bgpHost(t *testing.T) []Route {
	gw := net.ParseIP("192.168.50.1")
	return []Route{
		{R: netlink.Route{Dst: cidr(t, "10.42.1.0/26"), Protocol: 12, Type: 6, Table: 254}},
		{R: netlink.Route{Dst: cidr(t, "10.42.2.0/26"), Gw: net.ParseIP("10.42.2.0"), Protocol: 80, Table: 254}, Dev: "vxlan.calico"},
		{R: netlink.Route{Dst: cidr(t, "fd42::/122"), Protocol: 12, Type: 6, Table: 254}},
		{R: netlink.Route{Dst: cidr(t, "0.0.0.0/0"), Gw: gw, Protocol: 12, Table: 254}, Dev: "eth0"},
		{R: netlink.Route{Gw: gw, Protocol: 12, Table: 254}, Dev: "eth0"}, // default, as older kernels report it
		{R: netlink.Route{Dst: cidr(t, "::/0"), Gw: net.ParseIP("fd00::1"), Protocol: 12, Table: 254}, Dev: "eth0"},
		{R: netlink.Route{Dst: cidr(t, "203.0.113.0/24"), Gw: gw, Protocol: 12, Table: 254}, Dev: "eth0"},
		{R: netlink.Route{Dst: cidr(t, "10.0.0.0/8"), Gw: gw, Protocol: 12, Table: 254}, Dev: "eth0"}, // wider than the pool
		{R: netlink.Route{Dst: cidr(t, "10.245.0.0/24"), Protocol: 12, Table: 254}, Dev: "cilium_host"},
	}
}

func TestRoutePlanTakesOnlyRoutesInsideCalicosPools(t *testing.T) {
	t.Parallel()
	pools, err := ParsePools([]string{"10.42.0.0/16", "fd42::/48"})
	if err != nil {
		t.Fatal(err)
	}
	plan, kept, warnings := buildPlan(&Observed{Routes: bgpHost(t)}, pools, calicoOwner)
	var got []string
	for _, it := range plan {
		got = append(got, it.Name)
	}
	want := []string{
		"blackhole 10.42.1.0/26 proto bird table 254",
		"10.42.2.0/26 via 10.42.2.0 dev vxlan.calico proto 80 table 254",
		"blackhole fd42::/122 proto bird table 254",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("planned routes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantKept := map[string]string{
		"0.0.0.0/0 via 192.168.50.1 dev eth0 proto bird table 254":      keptDefault,
		"default via 192.168.50.1 dev eth0 proto bird table 254":        keptDefault,
		"::/0 via fd00::1 dev eth0 proto bird table 254":                keptDefault,
		"203.0.113.0/24 via 192.168.50.1 dev eth0 proto bird table 254": keptOutside,
		"10.0.0.0/8 via 192.168.50.1 dev eth0 proto bird table 254":     keptOutside,
	}
	gotKept := map[string]string{}
	for _, k := range kept {
		gotKept[k.Route] = k.Reason
	}
	if !reflect.DeepEqual(gotKept, wantKept) {
		t.Errorf("kept routes = %v\nwant %v", gotKept, wantKept)
	}
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings: %v", warnings)
	}
}

func TestRoutePlanWithoutPoolsRemovesNoRoute(t *testing.T) {
	t.Parallel()
	routes := bgpHost(t)
	plan, kept, warnings := buildPlan(&Observed{Routes: routes}, nil, calicoOwner)
	if len(plan) != 0 {
		t.Errorf("without pool CIDRs routes were planned: %v", plan)
	}
	rep := &Report{Plan: plan, KeptRoutes: kept}
	// Every route but the one through Cilium's device is kept; the three defaults say so.
	if n := rep.RoutesRefused(); n != len(routes)-1-3 {
		t.Errorf("%d routes refused for want of pool CIDRs, want %d: %v", n, len(routes)-4, kept)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "pool_cidrs") {
		t.Errorf("want one warning naming pool_cidrs, got %v", warnings)
	}
}

func TestParsePools(t *testing.T) {
	t.Parallel()
	got, err := ParsePools([]string{"10.42.7.9/16", " fd42::/48 "})
	if err != nil || !reflect.DeepEqual(got, []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16"), netip.MustParsePrefix("fd42::/48")}) {
		t.Errorf("ParsePools = %v, %v", got, err)
	}
	for _, bad := range []string{"10.42.0.0", "0.0.0.0/0", "::/0", "pool"} {
		if _, err := ParsePools([]string{bad}); err == nil || !strings.Contains(err.Error(), "pool_cidrs") {
			t.Errorf("ParsePools(%q): want an error naming pool_cidrs, got %v", bad, err)
		}
	}
}
