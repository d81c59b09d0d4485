package node

import (
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/vishvananda/netlink"
)

// Item kinds, in the order a plan removes them.
const (
	KindRule     = "iptables-rule"
	KindChain    = "iptables-chain"
	KindNFTTable = "nft-table"
	KindIPSet    = "ipset"
	KindRoute    = "route"
	KindLink     = "link"
	KindNetns    = "netns"
	KindPath     = "path"
)

// Item is one thing a plan removes. Name says which; Detail says where or what (backend and table
// for firewall items, type for links).
type Item struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"`

	backend    *backend
	table      string
	chain      string
	args       []string // rule spec without "-A <chain>"
	route      *netlink.Route
	family     string
	link       *Link
	mountPoint bool
}

func (it Item) String() string {
	if it.Detail == "" {
		return it.Kind + " " + it.Name
	}
	return fmt.Sprintf("%s %s (%s)", it.Kind, it.Name, it.Detail)
}

// buildPlan turns what a host holds into the list of the owner's items to remove, in removal order,
// and the routes with Calico's protocols it leaves alone. It never includes foreign objects: every
// item passes one of the owner's filters (owners.go), and a route must lie inside one of pools.
func buildPlan(obs *Observed, pools []netip.Prefix, own owner) ([]Item, []KeptRoute, []string) {
	var plan []Item
	var kept []KeptRoute
	var warnings []string
	rules, chains, w := firewallItems(obs, own)
	plan = append(append(plan, rules...), chains...)
	warnings = append(warnings, w...)
	for _, t := range obs.NFTTables {
		if own.NFTTable != nil && own.NFTTable(t.Family, t.Name) {
			plan = append(plan, Item{Kind: KindNFTTable, Name: t.Family + " " + t.Name, family: t.Family})
		}
	}
	for _, s := range obs.IPSets {
		if own.IPSet != nil && own.IPSet(s) {
			plan = append(plan, Item{Kind: KindIPSet, Name: s})
		}
	}
	if own.PoolRoutes {
		routes, k, w := routeItems(obs.Routes, pools)
		plan, kept = append(plan, routes...), k
		warnings = append(warnings, w...)
	}
	plan = append(plan, linkItems(obs.Links, own)...)
	for _, p := range obs.Netns {
		plan = append(plan, Item{Kind: KindNetns, Name: filepath.Base(p), Detail: p})
	}
	for _, p := range obs.Paths {
		detail := "file"
		switch {
		case p.MountPoint:
			detail = "contents of mount point"
		case p.Dir:
			detail = "dir"
		}
		plan = append(plan, Item{Kind: KindPath, Name: p.Path, Detail: detail, mountPoint: p.MountPoint})
	}
	return plan, kept, warnings
}

// firewallItems returns the rules outside the owner's chains that are the owner's, then its chains.
func firewallItems(obs *Observed, own owner) (rules, chains []Item, warnings []string) {
	backends := map[string]*backend{}
	for _, b := range obs.Backends {
		backends[b.Name] = b
	}
	for _, d := range obs.Dumps {
		where := d.Backend + " " + d.Table
		b := backends[d.Backend]
		for _, line := range d.Rules {
			args, err := splitRule(line)
			if err != nil || len(args) < 2 {
				warnings = append(warnings, fmt.Sprintf("%s: cannot read rule %q: %v", where, line, err))
				continue
			}
			chain := args[1]
			if own.Chain(chain) || !own.Rule(args[2:]) {
				continue
			}
			rules = append(rules, Item{Kind: KindRule, Name: line, Detail: where,
				backend: b, table: d.Table, chain: chain, args: args[2:]})
		}
		for _, c := range d.Chains {
			if own.Chain(c) {
				chains = append(chains, Item{Kind: KindChain, Name: c, Detail: where, backend: b, table: d.Table, chain: c})
			}
		}
	}
	return rules, chains, warnings
}

// linkItems picks Calico's links. tunl0 is the ipip module's fallback device: it cannot be deleted
// while the module is loaded, so it is only planned when Calico left it up or addressed.
func linkItems(links []Link, own owner) []Item {
	var out []Item
	for _, l := range links {
		if !own.Link(l.Name, l.Type) {
			continue
		}
		if l.Name == "tunl0" && !l.Up && !l.HasAddrs {
			continue
		}
		ll := l
		out = append(out, Item{Kind: KindLink, Name: l.Name, Detail: l.Type, link: &ll})
	}
	return out
}
