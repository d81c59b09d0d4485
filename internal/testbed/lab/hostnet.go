package lab

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// podVethsPerHost is how many pod interfaces (cali<hash> veths) each node host gets.
const podVethsPerHost = 2

// caliName is Calico's host-side veth name for a pod: "cali" + the first 11 hex digits of the
// SHA-1 of "<namespace>.<pod>".
func caliName(namespace, pod string) string {
	sum := sha1.Sum([]byte(namespace + "." + pod))
	return "cali" + hex.EncodeToString(sum[:])[:11]
}

// podAddr is the k-th workload address of a node's block.
func podAddr(podCIDR string, k int) string {
	ip, _, _ := net.ParseCIDR(podCIDR)
	ip4 := ip.To4()
	return net.IPv4(ip4[0], ip4[1], ip4[2], ip4[3]+byte(k)).String()
}

// calicoNetScript is a shell script run inside a node host that leaves what calico-node and the
// CNI plugin leave on a VXLAN node: pod veths (cali*), vxlan.calico, routes (the node's block as a
// blackhole with proto bird, other nodes' blocks via vxlan.calico), ipsets cali40* and iptables
// chains cali-* in raw, mangle, nat and filter with rules jumping to them from the built-in chains.
func calicoNetScript(n Node, all []Node) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	var vxlanNet []string
	for _, o := range all {
		if o.Name != n.Name {
			vxlanNet = append(vxlanNet, o.IP)
		}
	}
	// ipsets first: iptables rules refer to them.
	w("ipset create cali40all-ipam-pools hash:net family inet -exist")
	w("ipset add cali40all-ipam-pools %s -exist", defaults.K3sClusterCIDR)
	w("ipset create cali40masq-ipam-pools hash:net family inet -exist")
	w("ipset add cali40masq-ipam-pools %s -exist", defaults.K3sClusterCIDR)
	w("ipset create cali40all-vxlan-net hash:net family inet -exist")
	for _, ip := range vxlanNet {
		w("ipset add cali40all-vxlan-net %s/32 -exist", ip)
	}
	w("ipset create cali40this-host hash:ip family inet -exist")
	w("ipset add cali40this-host %s -exist", n.IP)
	w("ipset add cali40this-host 127.0.0.1 -exist")

	tunnel := vxlanTunnelAddr(n.PodCIDR)
	w("ip link add vxlan.calico type vxlan id 4096 dstport %d local %s dev eth0 nolearning", defaults.CalicoVXLANPort, n.IP)
	w("ip link set vxlan.calico mtu 1450")
	w("ip addr add %s/32 dev vxlan.calico", tunnel)
	w("ip link set vxlan.calico up")
	w("ip route add blackhole %s proto bird", calicoBlock(n.PodCIDR))
	for _, o := range all {
		if o.Name != n.Name {
			w("ip route add %s via %s dev vxlan.calico onlink proto 80", calicoBlock(o.PodCIDR), vxlanTunnelAddr(o.PodCIDR))
		}
	}
	var veths []string
	for k := 0; k < podVethsPerHost; k++ {
		name := caliName("lab", fmt.Sprintf("%s-pod-%d", n.Name, k))
		peer := fmt.Sprintf("labpod%d", k)
		veths = append(veths, name)
		w("ip link add %s type veth peer name %s", name, peer)
		w("ip link set %s up", peer)
		w("ip link set %s up", name)
		w("ip route add %s/32 dev %s scope link", podAddr(n.PodCIDR, 2+k), name)
	}
	w("iptables-restore -w --noflush <<'EOF'")
	b.WriteString(calicoIptables(veths))
	w("EOF")
	return b.String()
}

// calicoIptables renders Felix's chains (a representative subset) for iptables-restore --noflush.
func calicoIptables(veths []string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	chains := func(names ...string) {
		for _, c := range names {
			w(":%s - [0:0]", c)
		}
	}
	iptablesRawMangleNat(w, chains)
	iptablesFilter(w, chains, veths)
	return b.String()
}

// iptablesRawMangleNat renders Felix's raw, mangle and nat chains.
func iptablesRawMangleNat(w func(string, ...any), chains func(...string)) {
	w("*raw")
	chains("cali-PREROUTING", "cali-OUTPUT", "cali-from-host-endpoint", "cali-to-host-endpoint")
	w(`-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING`)
	w(`-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT`)
	w(`-A cali-PREROUTING -m comment --comment "cali:XFX5xbM8B9qR10JG" -j MARK --set-xmark 0x0/0xf0000`)
	w(`-A cali-PREROUTING -i cali+ -m comment --comment "cali:EWMPb0zVROM-woQp" -j MARK --set-xmark 0x40000/0x40000`)
	w(`-A cali-PREROUTING -m comment --comment "cali:twjnVLCm6NCwqzbI" -m mark --mark 0x0/0x40000 -j cali-from-host-endpoint`)
	w(`-A cali-OUTPUT -m comment --comment "cali:njdnLwYeGqBJyh3J" -j MARK --set-xmark 0x0/0xf0000`)
	w(`-A cali-OUTPUT -m comment --comment "cali:rz86uTUcEZAfFsh7" -j cali-to-host-endpoint`)
	w("COMMIT")
	w("*mangle")
	chains("cali-PREROUTING", "cali-POSTROUTING", "cali-from-host-endpoint")
	w(`-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING`)
	w(`-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING`)
	w(`-A cali-PREROUTING -m comment --comment "cali:6BJqBjBC7crtA-7-" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)
	w(`-A cali-PREROUTING -m comment --comment "cali:KX7AGNd6rMcDUai6" -j cali-from-host-endpoint`)
	w("COMMIT")
	w("*nat")
	chains("cali-PREROUTING", "cali-POSTROUTING", "cali-OUTPUT", "cali-nat-outgoing", "cali-fip-dnat", "cali-fip-snat")
	w(`-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING`)
	w(`-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING`)
	w(`-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT`)
	w(`-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat`)
	w(`-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat`)
	w(`-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing`)
	w(`-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat`)
	w(`-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE`)
	w("COMMIT")
}

// iptablesFilter renders Felix's filter chains, with per-workload chains for veths.
func iptablesFilter(w func(string, ...any), chains func(...string), veths []string) {
	w("*filter")
	chains("cali-INPUT", "cali-FORWARD", "cali-OUTPUT", "cali-from-wl-dispatch", "cali-to-wl-dispatch",
		"cali-wl-to-host", "cali-from-hep-forward", "cali-to-hep-forward", "cali-cidr-block")
	for _, v := range veths {
		chains("cali-fw-"+v, "cali-tw-"+v)
	}
	w(`-A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT`)
	w(`-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD`)
	w(`-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT`)
	w(`-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m mark --mark 0x10000/0x10000 -j ACCEPT`)
	w(`-A cali-INPUT -p udp -m comment --comment "cali:J76FwxInZIsk7uKY" -m udp --dport %d -m set --match-set cali40all-vxlan-net src -m addrtype --dst-type LOCAL -j ACCEPT`, defaults.CalicoVXLANPort)
	w(`-A cali-INPUT -p udp -m comment --comment "cali:4cgmbdWsLmozYhJh" -m udp --dport %d -m addrtype --dst-type LOCAL -j DROP`, defaults.CalicoVXLANPort)
	w(`-A cali-INPUT -i cali+ -m comment --comment "cali:pzCM-tiCF0ugcVZl" -g cali-wl-to-host`)
	w(`-A cali-FORWARD -i cali+ -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j cali-from-wl-dispatch`)
	w(`-A cali-FORWARD -o cali+ -m comment --comment "cali:A_sPAO0mcxbT9mOV" -j cali-to-wl-dispatch`)
	w(`-A cali-FORWARD -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-cidr-block`)
	w(`-A cali-OUTPUT -m comment --comment "cali:Mq1_rAdXXH3YkrzW" -m mark --mark 0x10000/0x10000 -j ACCEPT`)
	w(`-A cali-wl-to-host -m comment --comment "cali:Ee9Sbo10IpVujdIY" -j cali-from-wl-dispatch`)
	for _, v := range veths {
		w(`-A cali-from-wl-dispatch -i %s -m comment --comment "cali:lab-fw" -g cali-fw-%s`, v, v)
		w(`-A cali-to-wl-dispatch -o %s -m comment --comment "cali:lab-tw" -g cali-tw-%s`, v, v)
		w(`-A cali-fw-%s -m comment --comment "cali:lab-fw-accept" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, v)
		w(`-A cali-tw-%s -m comment --comment "cali:lab-tw-accept" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, v)
	}
	w("COMMIT")
}
