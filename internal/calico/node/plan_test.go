package node

import (
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestSplitRule(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		`-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD`: {"-A", "FORWARD", "-m", "comment", "--comment", "cali:wUHhoiAYhphO9Mso", "-j", "cali-FORWARD"},
		`-A INPUT -m comment --comment "a \"quoted\" word" -j ACCEPT`:             {"-A", "INPUT", "-m", "comment", "--comment", `a "quoted" word`, "-j", "ACCEPT"},
		`-A X -m comment --comment ""  -j ACCEPT`:                                 {"-A", "X", "-m", "comment", "--comment", "", "-j", "ACCEPT"},
	}
	for in, want := range cases {
		got, err := splitRule(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitRule(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := splitRule(`-A X --comment "open`); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}

// labPools is K3s' cluster CIDR, the one IP pool of the hosts below.
var labPools = []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16")}

// mixedHost is a node after Calico with Cilium already running: everything Cilium's and K3s' must
// stay out of the plan.
func mixedHost() *Observed {
	nft := &backend{Name: "iptables-nft"}
	_, blk, _ := net.ParseCIDR("10.42.1.0/26")
	_, cil, _ := net.ParseCIDR("10.245.0.0/24")
	return &Observed{
		Backends: []*backend{nft},
		Paths:    []Path{{Path: "/etc/cni/net.d/10-calico.conflist"}, {Path: "/etc/cni/net.d/calico-tls", Dir: true}},
		Links: []Link{
			{Name: "cali12345", Type: "veth", Up: true}, {Name: "vxlan.calico", Type: "vxlan", Up: true},
			{Name: "tunl0", Type: "ipip"}, // down and unaddressed: the module's fallback device, left alone
			{Name: "cilium_host", Type: "veth", Up: true}, {Name: "cilium_vxlan", Type: "vxlan"},
			{Name: "lxc123", Type: "veth"}, {Name: "eth0", Type: "device"},
		},
		Routes: []Route{
			{R: netlink.Route{Dst: blk, Protocol: 12, Type: 6, Table: 254}},
			{R: netlink.Route{Dst: cil, Protocol: 12, Table: 254}, Dev: "cilium_host"},
		},
		Dumps: []*dump{{Backend: "iptables-nft", Table: "filter",
			Chains: []string{"INPUT", "FORWARD", "cali-FORWARD", "cali-fw-cali12345", "CILIUM_INPUT", "KUBE-FORWARD"},
			Rules: []string{
				`-A INPUT -m comment --comment "cilium-feeder: CILIUM_INPUT" -j CILIUM_INPUT`,
				`-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD`,
				`-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m mark --mark 0x10000/0x10000 -j ACCEPT`,
				`-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
				`-A cali-FORWARD -j cali-fw-cali12345`,
				`-A CILIUM_INPUT -j ACCEPT`,
			}}},
		NFTTables: []NFTTable{{"ip", "calico"}, {"ip6", "calico"}, {"inet", "cilium"}, {"ip", "filter"}},
		IPSets:    []string{"cali40all-ipam-pools", "cali60masq-ipam-pools", "cilium_node_set_v4", "KUBE-LOOP-BACK"},
		Netns:     []string{"/run/netns/cali-1"},
	}
}

func TestBuildPlanTakesOnlyCalico(t *testing.T) {
	t.Parallel()
	plan, _, warnings := buildPlan(mixedHost(), labPools, calicoOwner)
	if len(warnings) > 0 {
		t.Errorf("unexpected warnings: %v", warnings)
	}
	var got []string
	for _, it := range plan {
		got = append(got, it.Kind+" "+it.Name)
	}
	want := []string{
		`iptables-rule -A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD`,
		`iptables-rule -A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m mark --mark 0x10000/0x10000 -j ACCEPT`,
		"iptables-chain cali-FORWARD", "iptables-chain cali-fw-cali12345",
		"nft-table ip calico", "nft-table ip6 calico",
		"ipset cali40all-ipam-pools", "ipset cali60masq-ipam-pools",
		"route blackhole 10.42.1.0/26 proto bird table 254",
		"link cali12345", "link vxlan.calico",
		"netns cali-1",
		"path /etc/cni/net.d/10-calico.conflist", "path /etc/cni/net.d/calico-tls",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, it := range plan {
		for _, foreign := range []string{"cilium", "CILIUM", "lxc", "KUBE", "eth0", "tunl0"} {
			if strings.Contains(it.Name, foreign) && it.Kind != KindRule {
				t.Errorf("plan touches a foreign object: %s", it)
			}
		}
	}
	if plan[0].chain != "FORWARD" || !reflect.DeepEqual(plan[0].args, []string{"-m", "comment", "--comment", "cali:wUHhoiAYhphO9Mso", "-j", "cali-FORWARD"}) {
		t.Errorf("rule item does not carry its delete spec: chain %q args %q", plan[0].chain, plan[0].args)
	}
}

func TestBuildPlanTunl0WhenCalicoUsedIt(t *testing.T) {
	t.Parallel()
	plan, _, _ := buildPlan(&Observed{Links: []Link{{Name: "tunl0", Type: "ipip", Up: true, HasAddrs: true}}}, labPools, calicoOwner)
	if len(plan) != 1 || plan[0].Name != "tunl0" {
		t.Errorf("an up, addressed tunl0 is Calico's IPIP device and must be planned: %v", plan)
	}
}

func TestBuildPlanEmptyHost(t *testing.T) {
	t.Parallel()
	obs := mixedHost()
	obs.Paths, obs.Netns, obs.Routes = nil, nil, obs.Routes[1:]
	obs.Links = obs.Links[2:]
	obs.NFTTables, obs.IPSets = obs.NFTTables[2:], obs.IPSets[2:]
	obs.Dumps[0].Chains = []string{"INPUT", "FORWARD", "CILIUM_INPUT"}
	obs.Dumps[0].Rules = []string{obs.Dumps[0].Rules[0], obs.Dumps[0].Rules[3], obs.Dumps[0].Rules[5]}
	if plan, _, _ := buildPlan(obs, labPools, calicoOwner); len(plan) != 0 {
		t.Errorf("a host with only Cilium and K3s objects got a plan: %v", plan)
	}
}
