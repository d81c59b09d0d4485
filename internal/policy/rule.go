package policy

import (
	"fmt"
	"strconv"

	"github.com/cnimigrate/cnimigrate/internal/policy/selector"
)

// part is one translated Calico rule: its peers and L4 part, allow or deny.
type part struct {
	loc   ruleLoc
	deny  bool
	peers peers
	l4    L4
}

// ruleSummary is what the order checks need to know about a translated rule.
type ruleSummary struct {
	loc    ruleLoc
	deny   bool
	l4     l4Match
	peer   selector.DNF // the peer endpoints; nil when the peer is not endpoints only
	peerOK bool
	// worldOnly: the peer is CIDRs outside the cluster's ranges (no pod can match it).
	worldOnly bool
}

// direction translates the rules of one direction; rules of a direction the policy's types leave
// out are ignored by Calico and noted.
func (c *policyCtx) direction(dir string, rules []Rule) []part {
	if !c.types[dir] {
		if len(rules) > 0 {
			c.note(ruleLoc{dir, 0}, "action", "", fmt.Sprintf("the policy's types do not include %s: Calico ignores its %d %s rules, and so does the translation", dir, len(rules), dir))
		}
		return nil
	}
	var parts []part
	for i, r := range rules {
		if p, ok := c.rule(ruleLoc{dir, i}, r); ok {
			parts = append(parts, p)
		}
	}
	return parts
}

// rule translates one rule; ok is false when it is untranslatable or never matches.
func (c *policyCtx) rule(loc ruleLoc, r Rule) (part, bool) {
	ok := true
	var deny bool
	switch r.Action {
	case "Allow":
	case "Deny":
		deny = true
	case "Pass":
		c.untranslatable(loc, "action", r.Action, "Pass hands the decision to the next tier (or the profile); Cilium has no tiers")
		ok = false
	case "Log":
		c.untranslatable(loc, "action", r.Action, "Log records packets and goes on to the next rule; Cilium has no logging rule (Hubble observes flows instead)")
		ok = false
	default:
		c.untranslatable(loc, "action", r.Action, "not a Calico rule action (Allow, Deny, Pass, Log)")
		ok = false
	}
	if r.HTTP != nil {
		c.untranslatable(loc, "http", compact(r.HTTP), "Calico HTTP matches (enforced by its application layer) do not map onto Cilium's Envoy-based L7 rules without review")
		ok = false
	}
	local, localName, remote, remoteName := r.Destination, "destination", r.Source, "source"
	if loc.dir == "egress" {
		local, localName, remote, remoteName = r.Source, "source", r.Destination, "destination"
	}
	ok = c.localSide(local, localName, loc) && ok
	l4, match, l4OK := c.l4(r, loc)
	family := c.ipFamily(r, match, loc)
	if family < 0 {
		ok = false
	}
	ps, peerDNF, v := c.peer(remote, remoteName, loc, max(family, 0))
	if !ok || !l4OK || v == peerFails {
		return part{}, false
	}
	if v == peerNever {
		c.note(loc, remoteName, "", "this rule can never match: dropped")
		return part{}, false
	}
	worldOnly := len(ps.endpoints)+len(ps.entities) == 0
	c.rules = append(c.rules, ruleSummary{loc: loc, deny: deny, l4: match, peer: peerDNF, peerOK: peerDNF != nil, worldOnly: worldOnly})
	return part{loc: loc, deny: deny, peers: ps, l4: l4}, true
}

// ipFamily checks ipVersion: 0 means no restriction needed, 4 or 6 restrict CIDR peers to that
// family, -1 means untranslatable (reported by peer when it matters).
func (c *policyCtx) ipFamily(r Rule, m l4Match, loc ruleLoc) int {
	if r.IPVersion == nil {
		return 0
	}
	v := *r.IPVersion
	switch {
	case v != 4 && v != 6:
		c.untranslatable(loc, "ipVersion", strconv.Itoa(v), "not an IP version (4 or 6)")
		return -1
	case (v == 4 && m.proto == protoICMP) || (v == 6 && m.proto == protoICMPv6):
		return 0 // the ICMP family already says so
	}
	return v
}

// localSide reports match criteria on the policy's own side of a rule (the destination of an
// ingress rule, the source of an egress rule): Cilium rules cannot narrow the subject per rule.
func (c *policyCtx) localSide(e EntityRule, side string, loc ruleLoc) bool {
	ok := true
	report := func(field, construct string) {
		c.untranslatable(loc, side+"."+field, construct, fmt.Sprintf("Cilium rules cannot narrow the policy's own endpoints per rule (the %s of an %s rule)", side, loc.dir))
		ok = false
	}
	if e.Selector != "" {
		report("selector", e.Selector)
	}
	if e.NamespaceSelector != "" {
		report("namespaceSelector", e.NamespaceSelector)
	}
	if e.NotSelector != "" {
		report("notSelector", e.NotSelector)
	}
	if len(e.Nets) > 0 {
		report("nets", listText(e.Nets))
	}
	if len(e.NotNets) > 0 {
		report("notNets", listText(e.NotNets))
	}
	if e.ServiceAccounts != nil {
		report("serviceAccounts", compact(e.ServiceAccounts))
	}
	if e.Services != nil {
		report("services", compact(e.Services))
	}
	return ok
}

// build assembles the Cilium policy: one rule per alternative of the subject selector, all with
// the same ingress and egress rules (less those the order check left out).
func (c *policyCtx) build() *CiliumPolicy {
	rule := CiliumRule{
		Description:       "Translated by cnimigrate from Calico " + c.label,
		EnableDefaultDeny: DefaultDeny{Ingress: c.types["ingress"], Egress: c.types["egress"]},
	}
	for _, p := range c.parts["ingress"] {
		if c.omit[p.loc] {
			continue
		}
		rs := p.peers.ingressRules(p.l4)
		if p.deny {
			rule.IngressDeny = append(rule.IngressDeny, rs...)
		} else {
			rule.Ingress = append(rule.Ingress, rs...)
		}
	}
	for _, p := range c.parts["egress"] {
		if c.omit[p.loc] {
			continue
		}
		rs := p.peers.egressRules(p.l4)
		if p.deny {
			rule.EgressDeny = append(rule.EgressDeny, rs...)
		} else {
			rule.Egress = append(rule.Egress, rs...)
		}
	}
	// A direction the policy governs with nothing allowed or denied still needs a rule: an empty
	// rule selects nothing and turns default deny on.
	if c.types["ingress"] && len(rule.Ingress)+len(rule.IngressDeny) == 0 {
		rule.Ingress = []IngressRule{{}}
	}
	if c.types["egress"] && len(rule.Egress)+len(rule.EgressDeny) == 0 {
		rule.Egress = []EgressRule{{}}
	}
	obj := &CiliumPolicy{APIVersion: CiliumAPIVersion, Kind: KindCiliumNetworkPolicy, Metadata: c.meta()}
	if c.global {
		obj.Kind = KindCiliumClusterwide
	}
	for _, term := range c.subject {
		r := rule
		r.EndpointSelector = term.LabelSelector()
		obj.Specs = append(obj.Specs, r)
	}
	if len(obj.Specs) == 1 {
		obj.Spec, obj.Specs = &obj.Specs[0], nil
	}
	return obj
}
