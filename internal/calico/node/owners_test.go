package node

import (
	"strings"
	"testing"
)

// TestBuildPlanTakesOnlyCilium: on a node holding both CNIs' objects, Cilium's plan takes its
// links, chains, feeder rules, ipsets and paths, and nothing of Calico's, K3s' or the host's.
func TestBuildPlanTakesOnlyCilium(t *testing.T) {
	t.Parallel()
	obs := mixedHost()
	// Paths and netns come filtered by the observer (existingPaths, ownNetns): Cilium's finds these.
	obs.Paths, obs.Netns = []Path{{Path: "/etc/cni/net.d/05-cilium.conflist"}}, nil
	obs.Links = append(obs.Links, Link{Name: "lxc_health", Type: "veth"}, Link{Name: "lxcfake", Type: "bridge"})
	plan, kept, _ := buildPlan(obs, nil, ciliumOwner)
	got := map[string]bool{}
	for _, it := range plan {
		got[it.Kind+" "+it.Name] = true
	}
	for _, want := range []string{"link cilium_host", "link cilium_vxlan", "link lxc123", "link lxc_health",
		"iptables-chain CILIUM_INPUT", `iptables-rule -A INPUT -m comment --comment "cilium-feeder: CILIUM_INPUT" -j CILIUM_INPUT`,
		"ipset cilium_node_set_v4"} {
		if !got[want] {
			t.Errorf("Cilium's plan lacks %q", want)
		}
	}
	for item := range got {
		for _, foreign := range []string{"cali", "KUBE", "tunl0", "eth0", "lxcfake", "nft-table", "route", "netns"} {
			if strings.Contains(item, foreign) {
				t.Errorf("Cilium's plan takes a foreign object: %s", item)
			}
		}
	}
	if len(kept) != 0 {
		t.Errorf("Cilium's cleanup reports Calico's routes as kept: %v", kept)
	}
}

// TestOwnersNeverShareAnObject: no name is claimed by both tables, so neither cleanup can take
// the other CNI's object.
func TestOwnersNeverShareAnObject(t *testing.T) {
	t.Parallel()
	links := []Link{{"cali1234", "veth", true, false}, {"vxlan.calico", "vxlan", true, true}, {"tunl0", "ipip", true, true},
		{"wireguard.cali", "wireguard", true, false}, {"cilium_host", "veth", true, true}, {"cilium_vxlan", "vxlan", true, false},
		{"lxc0a1b", "veth", true, false}, {"lxc_health", "veth", true, false}, {"cilium_calico", "veth", true, false}}
	for _, l := range links {
		if calicoOwner.Link(l.Name, l.Type) && ciliumOwner.Link(l.Name, l.Type) {
			t.Errorf("link %s is claimed by both", l.Name)
		}
		if !calicoOwner.Link(l.Name, l.Type) && !ciliumOwner.Link(l.Name, l.Type) {
			t.Errorf("link %s is claimed by neither", l.Name)
		}
	}
	for _, c := range []string{"cali-FORWARD", "cali-fw-cali1234", "CILIUM_INPUT", "OLD_CILIUM_FORWARD", "KUBE-SERVICES"} {
		if calicoOwner.Chain(c) && ciliumOwner.Chain(c) {
			t.Errorf("chain %s is claimed by both", c)
		}
	}
	for _, s := range []string{"cali40all-ipam-pools", "cilium_node_set_v4"} {
		if calicoOwner.IPSet(s) == ciliumOwner.IPSet(s) {
			t.Errorf("ipset %s: claimed by both or by neither", s)
		}
	}
	for _, f := range ciliumOwner.ConfFiles {
		for _, c := range calicoOwner.ConfFiles {
			if f == c {
				t.Errorf("conf file %s is claimed by both", f)
			}
		}
	}
	if _, err := ownerOf("flannel"); err == nil || !strings.Contains(err.Error(), "must be one of") {
		t.Errorf("an unknown cni: want a refusal, got %v", err)
	}
}
