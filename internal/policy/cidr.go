package policy

import (
	"fmt"
	"net/netip"
	"slices"
)

// addrSet is the set of addresses a Calico entity rule's nets and notNets allow: the union of
// nets (every address when nets is nil; nothing when it is empty but not nil) minus the union of
// notNets.
type addrSet struct {
	nets    []netip.Prefix
	notNets []netip.Prefix
}

var everyAddress = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

// clusterRelation is how an address set relates to the cluster's own address ranges.
type clusterRelation int

const (
	// coversCluster: every cluster address is in the set (a pod always matches it).
	coversCluster clusterRelation = iota
	// disjointFromCluster: no cluster address is in the set (a pod never matches it).
	disjointFromCluster
	// partlyCluster: some cluster addresses are in the set and some are not.
	partlyCluster
)

// parsePrefixes accepts CIDRs and bare addresses (as /32 or /128), masked to their network.
func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out), nil
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// contains reports whether p contains all of q.
func contains(p, q netip.Prefix) bool {
	return p.Bits() <= q.Bits() && p.Contains(q.Addr())
}

func (a addrSet) effectiveNets() []netip.Prefix {
	if a.nets == nil {
		return everyAddress
	}
	return a.nets
}

// removed reports whether notNets remove all of q.
func (a addrSet) removed(q netip.Prefix) bool {
	for _, x := range a.notNets {
		if contains(x, q) {
			return true
		}
	}
	return false
}

func (a addrSet) covers(c netip.Prefix) bool {
	for _, x := range a.notNets {
		if x.Overlaps(c) {
			return false
		}
	}
	for _, n := range a.effectiveNets() {
		if contains(n, c) {
			return true
		}
	}
	return false
}

func (a addrSet) disjoint(c netip.Prefix) bool {
	for _, n := range a.effectiveNets() {
		if !n.Overlaps(c) {
			continue
		}
		inter := c
		if contains(c, n) {
			inter = n
		}
		if !a.removed(inter) {
			return false
		}
	}
	return true
}

func (a addrSet) relation(cluster []netip.Prefix) clusterRelation {
	covers, disjoint := true, true
	for _, c := range cluster {
		covers = covers && a.covers(c)
		disjoint = disjoint && a.disjoint(c)
	}
	switch {
	case covers:
		return coversCluster
	case disjoint:
		return disjointFromCluster
	}
	return partlyCluster
}

// cilium renders the set as CIDR peers: a plain list when nothing is excepted, else CIDR rules
// with the notNets inside each net as exceptions.
func (a addrSet) cilium() (cidrs []string, set []CIDRRule) {
	anyExcept := false
	for _, n := range a.effectiveNets() {
		if a.removed(n) {
			continue
		}
		r := CIDRRule{CIDR: n.String()}
		for _, x := range a.notNets {
			if contains(n, x) {
				r.Except = append(r.Except, x.String())
			}
		}
		anyExcept = anyExcept || len(r.Except) > 0
		set = append(set, r)
	}
	if anyExcept {
		return nil, set
	}
	for _, r := range set {
		cidrs = append(cidrs, r.CIDR)
	}
	return cidrs, nil
}

// family keeps only the prefixes of one IP version (4 or 6).
func (a addrSet) family(version int) addrSet {
	keep := func(ps []netip.Prefix) []netip.Prefix {
		out := []netip.Prefix{}
		for _, p := range ps {
			if (version == 4) == p.Addr().Is4() {
				out = append(out, p)
			}
		}
		return out
	}
	return addrSet{nets: keep(a.effectiveNets()), notNets: keep(a.notNets)}
}

func (a addrSet) isEmpty() bool {
	for _, n := range a.effectiveNets() {
		if !a.removed(n) {
			return false
		}
	}
	return true
}
