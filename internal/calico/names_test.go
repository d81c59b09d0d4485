package calico

import (
	"strings"
	"testing"
)

func TestIsCalicoLink(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, typ string
		want      bool
	}{
		{"cali1234567890a", "veth", true},
		{"vxlan.calico", "vxlan", true},
		{"vxlan-v6.calico", "vxlan", true},
		{"wireguard.cali", "wireguard", true},
		{"wg-v6.cali", "wireguard", true},
		{"tunl0", "ipip", true},
		{"cilium_host", "veth", false},
		{"cilium_net", "veth", false},
		{"cilium_vxlan", "vxlan", false},
		{"lxc123", "veth", false},
		{"lxc_health", "veth", false},
		{"eth0", "device", false},
		{"flannel.1", "vxlan", false},
		{"calibration0", "dummy", false}, // cali prefix but not a pod veth
	}
	for _, c := range cases {
		if got := IsCalicoLink(c.name, c.typ); got != c.want {
			t.Errorf("IsCalicoLink(%q, %q) = %v, want %v", c.name, c.typ, got, c.want)
		}
	}
}

func TestIsCalicoChain(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"cali-FORWARD": true, "cali-fw-cali123": true, "cali-pri-kns.default": true,
		"CILIUM_INPUT": false, "CILIUM_FORWARD": false, "KUBE-SERVICES": false, "KUBE-FORWARD": false,
		"FLANNEL-FWD": false, "FORWARD": false, "calico": false, "cali": false,
	} {
		if got := IsCalicoChain(name); got != want {
			t.Errorf("IsCalicoChain(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsCalicoRule(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rule string
		want bool
	}{
		{"-m comment --comment cali:wUHhoiAYhphO9Mso -j cali-FORWARD", true},
		{"-j cali-INPUT", true},
		{"-g cali-from-hep-forward", true},
		{"-m comment --comment cali:S93hcgKJrXEqnTfs -m mark --mark 0x10000/0x10000 -j ACCEPT", true},
		{"-m comment --comment cilium-feeder -j CILIUM_FORWARD", false},
		{"-m comment --comment kubernetes-forwarding-rules -j KUBE-FORWARD", false},
		{"-m comment --comment cali:short -j ACCEPT", false}, // not felix's 16-char hash
		{"-m comment --comment my-cali-rule -j ACCEPT", false},
		{"-j ACCEPT", false},
	}
	for _, c := range cases {
		if got := IsCalicoRule(strings.Fields(c.rule)); got != c.want {
			t.Errorf("IsCalicoRule(%q) = %v, want %v", c.rule, got, c.want)
		}
	}
}

func TestSmallFilters(t *testing.T) {
	t.Parallel()
	checks := []struct {
		what string
		got  bool
		want bool
	}{
		{"ipset cali40all-ipam-pools", IsCalicoIPSet("cali40all-ipam-pools"), true},
		{"ipset cali60masq-ipam-pools", IsCalicoIPSet("cali60masq-ipam-pools"), true},
		{"ipset cilium_node_set_v4", IsCalicoIPSet("cilium_node_set_v4"), false},
		{"ipset KUBE-LOOP-BACK", IsCalicoIPSet("KUBE-LOOP-BACK"), false},
		{"netns cali-123", IsCalicoNetns("cali-123"), true},
		{"netns cni-1234", IsCalicoNetns("cni-1234"), false},
		{"nft ip calico", IsCalicoNFTTable("ip", "calico"), true},
		{"nft ip6 calico", IsCalicoNFTTable("ip6", "calico"), true},
		{"nft inet cilium", IsCalicoNFTTable("inet", "cilium"), false},
		{"nft ip filter", IsCalicoNFTTable("ip", "filter"), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}
