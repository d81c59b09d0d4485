package node

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/calico"
)

// KeptRoute is a route with BIRD's or Felix's protocol that a plan leaves alone, and why. Other
// software speaks BGP too (a BIRD of the host's own, a router's routes learned by Calico's BIRD):
// the protocol alone does not make a route Calico's.
type KeptRoute struct {
	Route  string `json:"route"`
	Reason string `json:"reason"`
}

// Why a route with Calico's protocol is kept.
const (
	keptDefault = "a default route is never removed"
	keptOutside = "outside Calico's pool CIDRs"
	keptNoPools = "route removal refused: no pool CIDRs given (pool_cidrs)"
)

// ParsePools parses Calico's IP pool and IPAM block CIDRs.
func ParsePools(cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("pool_cidrs: %q is not a CIDR: %w", c, err)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("pool_cidrs: %q covers every address: give Calico's IP pools, not a default route", c)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// routeItems picks the routes to remove: those with Calico's protocols (all that observe lists)
// whose destination lies inside one of pools, never a default route, never one through Cilium's
// devices. The others are returned as kept; without pools every route is kept, with a warning.
func routeItems(routes []Route, pools []netip.Prefix) (items []Item, kept []KeptRoute, warnings []string) {
	refused := 0
	for _, r := range routes {
		if strings.HasPrefix(r.Dev, "cilium") || strings.HasPrefix(r.Dev, "lxc") {
			continue // never Calico's, whatever protocol the route carries
		}
		name := describeRoute(r)
		if why := keepReason(r.R.Dst, pools); why != "" {
			kept = append(kept, KeptRoute{Route: name, Reason: why})
			if why == keptNoPools {
				refused++
			}
			continue
		}
		rr := r.R
		items = append(items, Item{Kind: KindRoute, Name: name, route: &rr})
	}
	if refused > 0 {
		warnings = append(warnings, fmt.Sprintf("%d routes with BIRD's or Felix's protocol were left in place: "+
			"without Calico's pool CIDRs (pool_cidrs) no route is removed, since the protocol alone does not make a route "+
			"Calico's; they are listed in routes_kept", refused))
	}
	return items, kept, warnings
}

// keepReason says why a route to dst is not removed ("" when it is Calico's).
func keepReason(dst *net.IPNet, pools []netip.Prefix) string {
	p, ok := prefixOf(dst)
	switch {
	case !ok || p.Bits() == 0:
		return keptDefault
	case len(pools) == 0:
		return keptNoPools
	}
	for _, pool := range pools {
		if pool.Bits() <= p.Bits() && pool.Contains(p.Addr()) {
			return ""
		}
	}
	return keptOutside
}

// prefixOf converts a route destination; a nil destination (the default route) is not converted.
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	addr, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := n.Mask.Size()
	if addr.Is4In6() && bits == 128 {
		ones -= 96
	}
	return netip.PrefixFrom(addr.Unmap(), ones), bits != 0
}

func describeRoute(r Route) string {
	var b strings.Builder
	switch r.R.Type {
	case 6: // RTN_BLACKHOLE
		b.WriteString("blackhole ")
	case 7: // RTN_UNREACHABLE
		b.WriteString("unreachable ")
	}
	if r.R.Dst != nil {
		b.WriteString(r.R.Dst.String())
	} else {
		b.WriteString("default")
	}
	if r.R.Gw != nil {
		b.WriteString(" via " + r.R.Gw.String())
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	proto := fmt.Sprint(int(r.R.Protocol))
	if r.R.Protocol == calico.RouteProtoBird {
		proto = "bird"
	}
	fmt.Fprintf(&b, " proto %s table %d", proto, r.R.Table)
	return b.String()
}
