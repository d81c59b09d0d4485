package node

import (
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/calico"
)

// CNIs whose leftovers a node cleanup removes.
const (
	CNICalico = "calico"
	CNICilium = "cilium"
)

// owner says which of a node's objects belong to one CNI: every filter a plan applies, in one
// table, so that Calico's cleanup and Cilium's share the observing and removing machinery and
// differ only here. A nil filter matches nothing.
type owner struct {
	Display   string   // the CNI's name in messages
	ConfFiles []string // entries of a CNI conf dir
	BinFiles  []string // entries of a CNI bin dir
	StateDirs []string // fixed host paths
	PinGlobs  []string // glob patterns of BPF objects pinned in bpffs
	Link      func(name, linkType string) bool
	Chain     func(name string) bool
	Rule      func(args []string) bool // a rule outside the owner's chains that is the owner's
	IPSet     func(name string) bool
	NFTTable  func(family, name string) bool
	Netns     func(name string) bool
	// PoolRoutes: routes with BIRD's or Felix's protocol inside the pools are the owner's. Cilium's
	// routes go through its own devices and leave with them.
	PoolRoutes bool
}

// ownerOf returns the table for a cni option value.
func ownerOf(cni string) (owner, error) {
	switch cni {
	case "", CNICalico:
		return calicoOwner, nil
	case CNICilium:
		return ciliumOwner, nil
	}
	return owner{}, fmt.Errorf("value of cni must be one of: %s, %s, got: %s", CNICalico, CNICilium, cni)
}

var calicoOwner = owner{
	Display: "Calico", ConfFiles: calico.CNIConfFiles, BinFiles: calico.CNIBinFiles, StateDirs: calico.StateDirs,
	Link: calico.IsCalicoLink, Chain: calico.IsCalicoChain, Rule: calico.IsCalicoRule, IPSet: calico.IsCalicoIPSet,
	NFTTable: calico.IsCalicoNFTTable, Netns: calico.IsCalicoNetns, PoolRoutes: true,
}

// ciliumOwner is what Cilium's agent and CNI plugin leave on a node once its release is
// uninstalled (seen on a kind node after helm uninstall). /run/cilium is not listed: the agent
// mounts a cgroup2 hierarchy under it, which emptying would walk into. Calico's eBPF dataplane pins
// cali_* globals and a calico dir, never cilium_*.
var ciliumOwner = owner{
	Display:   "Cilium",
	ConfFiles: []string{"05-cilium.conflist", "05-cilium.conf"},
	BinFiles:  []string{"cilium-cni"},
	PinGlobs:  []string{"/sys/fs/bpf/tc/globals/cilium_*", "/sys/fs/bpf/xdp/globals/cilium_*", "/sys/fs/bpf/cilium"},
	Link:      isCiliumLink,
	Chain:     isCiliumChain,
	Rule:      isCiliumRule,
	IPSet:     isCiliumIPSet,
}

// isCiliumLink: cilium_host, cilium_net, cilium_vxlan, cilium_geneve, cilium_wg0 …, and the lxc*
// host ends of its pods (veth, or netkit on newer kernels; lxc_health is the health endpoint's).
func isCiliumLink(name, linkType string) bool {
	if isCalicoName(name) {
		return false
	}
	if strings.HasPrefix(name, "cilium_") {
		return true
	}
	return strings.HasPrefix(name, "lxc") && (linkType == "veth" || linkType == "netkit")
}

// isCiliumChain: CILIUM_* and the OLD_CILIUM_* an agent upgrade leaves while it swaps its rules.
func isCiliumChain(name string) bool {
	return strings.HasPrefix(name, "CILIUM_") || strings.HasPrefix(name, "OLD_CILIUM_")
}

// isCiliumRule: a rule in a built-in or foreign chain that jumps or goes to one of Cilium's (its
// "cilium-feeder" rules).
func isCiliumRule(args []string) bool {
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-j", "--jump", "-g", "--goto":
			if isCiliumChain(args[i+1]) {
				return true
			}
		}
	}
	return false
}

// isCiliumIPSet: cilium_node_set_v4 and _v6.
func isCiliumIPSet(name string) bool { return strings.HasPrefix(name, "cilium_") }

// isCalicoName guards Cilium's filters: nothing named like Calico's is ever Cilium's.
func isCalicoName(name string) bool {
	return strings.HasPrefix(name, "cali") || name == "tunl0" || strings.HasSuffix(name, ".calico") ||
		strings.HasSuffix(name, ".cali")
}
