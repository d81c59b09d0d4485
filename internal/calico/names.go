package calico

import (
	"regexp"
	"strings"
)

// Node-level names Calico leaves behind (migration-facts.md, "Node leftovers").
var (
	// CNIConfFiles are Calico's entries in a CNI conf dir (files or, for calico-tls, a directory),
	// with the names Cilium's agent gives Calico's configs when it sets them aside (cni.exclusive
	// appends CiliumSetAsideSuffix): Cilium's uninstall renames those back, and a Calico config
	// whose plugin is gone would then break every new pod on the node.
	CNIConfFiles = []string{"10-calico.conflist", "10-calico.conf",
		"10-calico.conflist" + CiliumSetAsideSuffix, "10-calico.conf" + CiliumSetAsideSuffix,
		"calico-kubeconfig", "calico-tls"}
	// CNIBinFiles are Calico's plugins in a CNI bin dir.
	CNIBinFiles = []string{"calico", "calico-ipam"}
	// StateDirs are calico-node's host directories.
	StateDirs = []string{"/var/lib/calico", "/var/run/calico", "/var/log/calico"}
	// tunnelLinks are the devices Calico creates under fixed names.
	tunnelLinks = map[string]bool{
		"tunl0": true, "vxlan.calico": true, "vxlan-v6.calico": true, "wireguard.cali": true, "wg-v6.cali": true,
	}
)

// CiliumSetAsideSuffix is what Cilium's agent appends to every other CNI config in the conf dir
// when cni.exclusive is on (cilium daemon/cmd/cni, cleanupOtherCNI); cilium-dbg's post-uninstall
// cleanup strips it again.
const CiliumSetAsideSuffix = ".cilium_bak"

// Route protocols Calico programs: 12 is bird (BGP and its blackholes); 80 is felix's default for
// VXLAN routes and their blackholes (felix/dataplane/linux/vxlan_mgr.go, defaultVXLANProto).
const (
	RouteProtoBird  = 12
	RouteProtoFelix = 80
)

// foreign are name prefixes that belong to Cilium or Kubernetes: nothing matching them is ever
// Calico's, whatever else a filter says.
var foreign = []string{"cilium", "lxc", "CILIUM_", "KUBE-", "FLANNEL", "flannel", "05-cilium"}

func isForeign(name string) bool {
	for _, p := range foreign {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// IsCalicoLink reports whether a network device is Calico's: a cali* veth (a pod's host end) or
// one of Calico's tunnel devices.
func IsCalicoLink(name, linkType string) bool {
	if isForeign(name) {
		return false
	}
	if tunnelLinks[name] {
		return true
	}
	return strings.HasPrefix(name, "cali") && linkType == "veth"
}

// IsCalicoChain reports whether an iptables chain is one of Calico's (cali-*).
func IsCalicoChain(name string) bool {
	return strings.HasPrefix(name, "cali-") && !isForeign(name)
}

// IsCalicoIPSet reports whether an ipset is Calico's (cali40* for IPv4, cali60* for IPv6).
func IsCalicoIPSet(name string) bool {
	return strings.HasPrefix(name, "cali40") || strings.HasPrefix(name, "cali60")
}

// IsCalicoNetns reports whether a named network namespace is Calico's.
func IsCalicoNetns(name string) bool { return strings.HasPrefix(name, "cali-") }

// IsCalicoNFTTable reports whether an nftables table (family and name) is Calico's.
func IsCalicoNFTTable(family, name string) bool {
	return name == "calico" && (family == "ip" || family == "ip6")
}

// felixRuleComment is the comment felix puts on every rule it programs: "cali:" and a 16-character hash.
var felixRuleComment = regexp.MustCompile(`^cali:[A-Za-z0-9_-]{16}$`)

// IsCalicoRule reports whether a rule (as iptables -S prints it, split into arguments) outside the
// cali-* chains is Calico's: it jumps or goes to a cali-* chain, or carries felix's rule comment.
func IsCalicoRule(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-j", "--jump", "-g", "--goto":
			if IsCalicoChain(args[i+1]) {
				return true
			}
		case "--comment":
			if felixRuleComment.MatchString(args[i+1]) {
				return true
			}
		}
	}
	return false
}
