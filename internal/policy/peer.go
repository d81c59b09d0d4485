package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cnimigrate/cnimigrate/internal/policy/selector"
)

// peerVerdict is the outcome of translating the peer side of a rule.
type peerVerdict int

const (
	peerOK    peerVerdict = iota
	peerNever             // the rule can never match: drop it
	peerFails             // untranslatable (reported)
)

// peer translates the remote side of a rule (the source of an ingress rule, the destination of an
// egress rule). family (4 or 6, 0 for both) restricts CIDR peers to one IP version.
func (c *policyCtx) peer(e EntityRule, side string, loc ruleLoc, family int) (peers, selector.DNF, peerVerdict) {
	ok := true
	if e.NotSelector != "" {
		c.untranslatable(loc, side+".notSelector", e.NotSelector, "Cilium cannot allow every peer except some endpoints (a notSelector also matches traffic from outside the cluster)")
		ok = false
	}
	if e.Services != nil {
		c.untranslatable(loc, side+".services", compact(e.Services), "Calico matches a Service's endpoints and their ports; Cilium's toServices differs (egress only, no named ports per endpoint): review by hand")
		ok = false
	}
	if sa := e.ServiceAccounts; sa != nil && sa.Selector != "" {
		c.untranslatable(loc, side+".serviceAccounts.selector", sa.Selector, "Cilium identities carry the service account's name, not its labels")
		ok = false
	}
	addrs, addrOK := c.addrs(e, side, loc)
	hasEP := e.Selector != "" || e.NamespaceSelector != "" || (e.ServiceAccounts != nil && len(e.ServiceAccounts.Names) > 0)
	var ep selector.DNF
	if hasEP {
		var epOK bool
		ep, epOK = c.endpointDNF(e, side, loc)
		ok = epOK && c.networkSets(e, side, loc) && ok
	}
	if !ok || !addrOK {
		return peers{}, nil, peerFails
	}
	noAddr := len(e.Nets) == 0 && len(e.NotNets) == 0
	if family != 0 {
		if hasEP || noAddr {
			c.untranslatable(loc, "ipVersion", fmt.Sprint(family), "Cilium cannot restrict endpoint or entity peers to one IP family")
			return peers{}, nil, peerFails
		}
		addrs = addrs.family(family)
	}
	if hasEP {
		return c.endpointPeers(e, side, loc, ep, addrs, noAddr)
	}
	if noAddr {
		return peers{entities: []string{entityAll}}, nil, peerOK
	}
	return c.cidrPeers(e, side, loc, addrs)
}

func (c *policyCtx) endpointPeers(e EntityRule, side string, loc ruleLoc, ep selector.DNF, addrs addrSet, noAddr bool) (peers, selector.DNF, peerVerdict) {
	rel := coversCluster
	if !noAddr {
		rel = addrs.relation(c.opts.ClusterCIDRs)
	}
	switch {
	case rel == partlyCluster:
		c.untranslatable(loc, netsField(e, side), netsText(e), "the addresses cover part of the cluster's ranges "+c.clusterText()+": Cilium cannot require an endpoint to also have an address in a range")
		return peers{}, nil, peerFails
	case rel == disjointFromCluster:
		c.note(loc, netsField(e, side), netsText(e), "no cluster endpoint has an address in these ranges, so the selector and the addresses never match together")
		return peers{}, nil, peerNever
	case ep.IsFalse():
		return peers{}, nil, peerNever
	}
	if !noAddr {
		c.note(loc, netsField(e, side), netsText(e), "every cluster address "+c.clusterText()+" is in these ranges, so they add nothing to the selector")
	}
	return peers{endpoints: ep.LabelSelectors()}, ep, peerOK
}

func (c *policyCtx) cidrPeers(e EntityRule, side string, loc ruleLoc, addrs addrSet) (peers, selector.DNF, peerVerdict) {
	switch addrs.relation(c.opts.ClusterCIDRs) {
	case partlyCluster:
		c.untranslatable(loc, netsField(e, side), netsText(e), "the addresses cover part of the cluster's ranges "+c.clusterText()+"; Cilium CIDR rules never match pods, nodes or other cluster endpoints")
		return peers{}, nil, peerFails
	case coversCluster:
		cidrs, set := addrs.cilium()
		c.note(loc, netsField(e, side), netsText(e), "the addresses include every cluster range "+c.clusterText()+": translated as entity cluster plus CIDR rules for the rest (Cilium CIDR rules never match cluster endpoints)")
		return peers{entities: []string{entityCluster}, cidrs: cidrs, cidrSet: set}, nil, peerOK
	}
	if addrs.isEmpty() {
		return peers{}, nil, peerNever
	}
	cidrs, set := addrs.cilium()
	return peers{cidrs: cidrs, cidrSet: set}, nil, peerOK
}

func (c *policyCtx) addrs(e EntityRule, side string, loc ruleLoc) (addrSet, bool) {
	nets, err := parsePrefixes(e.Nets)
	if err != nil {
		c.untranslatable(loc, side+".nets", listText(e.Nets), err.Error())
		return addrSet{}, false
	}
	notNets, err := parsePrefixes(e.NotNets)
	if err != nil {
		c.untranslatable(loc, side+".notNets", listText(e.NotNets), err.Error())
		return addrSet{}, false
	}
	return addrSet{nets: nets, notNets: notNets}, true
}

// endpointDNF is the peer's endpoint selector: selector (pod labels) within the policy's
// namespace, or within the namespaces namespaceSelector picks (any namespace for a global
// policy), and with one of the listed service accounts.
func (c *policyCtx) endpointDNF(e EntityRule, side string, loc ruleLoc) (selector.DNF, bool) {
	d, ok := c.dnf(e.Selector, podKey, loc, side+".selector")
	if !ok {
		return nil, false
	}
	construct := e.Selector
	switch {
	case e.NamespaceSelector != "":
		nd, ok := c.dnf(e.NamespaceSelector, namespaceKey, loc, side+".namespaceSelector")
		if !ok {
			return nil, false
		}
		if d, ok = c.and(d, nd, loc, side+".namespaceSelector", e.NamespaceSelector); !ok {
			return nil, false
		}
		d, ok = c.and(d, selector.Of(nsExists()), loc, side+".namespaceSelector", e.NamespaceSelector)
	case c.global:
		d, ok = c.and(d, selector.Of(nsExists()), loc, side+".selector", construct)
	default:
		d, ok = c.and(d, selector.Of(nsIn(c.ns)), loc, side+".selector", construct)
	}
	if !ok || e.ServiceAccounts == nil || len(e.ServiceAccounts.Names) == 0 {
		return d, ok
	}
	names := slices.Sorted(slices.Values(e.ServiceAccounts.Names))
	for _, n := range names {
		if errs := validation.IsValidLabelValue(n); len(errs) > 0 {
			c.untranslatable(loc, side+".serviceAccounts.names", n, "not usable in a label selector: "+errs[0])
			return nil, false
		}
	}
	sa := selector.Requirement{Key: ciliumServiceAccountKey, Op: metav1.LabelSelectorOpIn, Values: slices.Compact(names)}
	return c.and(d, selector.Of(sa), loc, side+".serviceAccounts.names", strings.Join(names, ", "))
}

// networkSets reports selectors that also match Calico network sets: in Calico such a rule also
// matches the set's CIDRs, which a Cilium endpoint selector never does.
func (c *policyCtx) networkSets(e EntityRule, side string, loc ruleLoc) bool {
	if e.ServiceAccounts != nil && len(e.ServiceAccounts.Names) > 0 {
		return true // network sets have no service account
	}
	sel, err := selector.Parse(e.Selector)
	if err != nil {
		return true // reported already
	}
	ok := true
	for _, s := range c.sets {
		if !c.setInScope(s, e) {
			continue
		}
		labels := maps.Clone(s.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		if s.Namespace != "" {
			labels[calicoNamespaceLabel] = s.Namespace
		}
		if sel.Evaluate(labels) {
			ref := ObjectRef{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}
			construct := sel.Source
			if construct == "" {
				construct = "all()"
			}
			c.untranslatable(loc, side+".selector", construct, fmt.Sprintf("in Calico it also matches %s (nets %s); Cilium endpoint selectors never match network sets: add those nets as a CIDR rule by hand", ref, listText(s.Nets)))
			ok = false
		}
	}
	return ok
}

// setInScope: which network sets a rule's selectors can reach. Namespace labels are not known, so
// a namespaceSelector is assumed to reach every namespaced set.
func (c *policyCtx) setInScope(s NetworkSet, e EntityRule) bool {
	switch {
	case e.NamespaceSelector != "":
		return s.Kind == KindNetworkSet
	case c.global:
		return true
	}
	return s.Kind == KindNetworkSet && s.Namespace == c.ns
}

func netsText(e EntityRule) string {
	var parts []string
	if len(e.Nets) > 0 {
		parts = append(parts, "nets "+listText(e.Nets))
	}
	if len(e.NotNets) > 0 {
		parts = append(parts, "notNets "+listText(e.NotNets))
	}
	return strings.Join(parts, ", ")
}

// netsField names the field a finding about addresses is on: nets, or notNets alone.
func netsField(e EntityRule, side string) string {
	if len(e.Nets) == 0 {
		return side + ".notNets"
	}
	return side + ".nets"
}

func listText(ss []string) string { return "[" + strings.Join(ss, ", ") + "]" }

// compact renders a field's value as one line of JSON, for constructs that are not strings.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func (c *policyCtx) clusterText() string {
	parts := make([]string, len(c.opts.ClusterCIDRs))
	for i, p := range c.opts.ClusterCIDRs {
		parts[i] = p.String()
	}
	return listText(parts)
}
