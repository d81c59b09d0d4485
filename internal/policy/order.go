package policy

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/policy/selector"
)

// k8sPolicyOrder is the order Calico gives Kubernetes NetworkPolicies.
const k8sPolicyOrder = 1000

// checkOrder reports the Deny rules whose outcome depends on Calico's rule and policy order.
//
// Calico evaluates the policies selecting an endpoint by ascending order (ties by name) and each
// policy's rules top to bottom; the first Allow or Deny that matches decides. Cilium applies
// every deny before any allow. So a Deny is translated faithfully unless an Allow that Calico
// evaluates first (an earlier rule of the same policy, or a rule of a policy of lower or equal
// order) can match the same traffic: there Calico allowed, Cilium denies. The translation keeps
// the deny (the safer side) and reports it.
func checkOrder(ctxs []*policyCtx, k8sPolicies map[string]bool) {
	for _, p := range ctxs {
		if p.obj == nil {
			continue
		}
		for _, d := range p.rules {
			if !d.deny {
				continue
			}
			var before []string
			for _, q := range ctxs {
				if q.obj == nil || (q != p && q.order > p.order) {
					continue
				}
				for _, a := range q.rules {
					if a.deny || a.loc.dir != d.loc.dir || (q == p && a.loc.idx > d.loc.idx) {
						continue
					}
					if overlaps(p, d, q, a) {
						before = append(before, describeRule(q, a, p))
					}
				}
			}
			if len(before) > 0 {
				p.untranslatable(d.loc, "action", "Deny", "Calico evaluates "+strings.Join(before, "; ")+
					" before this Deny, and it wins for traffic both match; Cilium applies every deny before any allow. Kept as a deny: that traffic will be dropped")
			}
			p.checkK8sOrder(d, k8sPolicies)
		}
	}
}

func describeRule(q *policyCtx, a ruleSummary, p *policyCtx) string {
	where := fmt.Sprintf("Allow rule %s[%d]", a.loc.dir, a.loc.idx)
	if q == p {
		return "the earlier " + where
	}
	return fmt.Sprintf("%s of %s (order %s)", where, q.label, orderText(q.order))
}

func orderText(o float64) string {
	if math.IsInf(o, 1) {
		return "unset"
	}
	return fmt.Sprint(o)
}

// overlaps reports whether Deny rule d of p and Allow rule a of q can match the same traffic.
func overlaps(p *policyCtx, d ruleSummary, q *policyCtx, a ruleSummary) bool {
	if d.l4.disjoint(a.l4) {
		return false
	}
	if p != q && disjointDNF(p.subject, q.subject) {
		return false
	}
	return !(d.peerOK && a.peerOK && disjointDNF(d.peer, a.peer))
}

func disjointDNF(a, b selector.DNF) bool {
	d, _, err := selector.Conjoin(a, b, 0)
	return err == nil && d.IsFalse()
}

// checkK8sOrder: Calico evaluates Kubernetes NetworkPolicies at order 1000, so they come before a
// Deny of a policy with a higher (or no) order; Cilium's deny wins over their allows.
func (p *policyCtx) checkK8sOrder(d ruleSummary, k8sPolicies map[string]bool) {
	if p.order < k8sPolicyOrder {
		return
	}
	if k8sPolicies == nil {
		p.note(d.loc, "action", "Deny", fmt.Sprintf("the policy's order (%s) puts it after Kubernetes NetworkPolicies (order %d) in Calico; whether one of them allows what this Deny drops is unknown (they were not read). If one does, Calico allowed that traffic and Cilium will drop it", orderText(p.order), k8sPolicyOrder))
		return
	}
	var hit []string
	for ns := range k8sPolicies {
		if !disjointDNF(p.subject, selector.Of(nsIn(ns))) {
			hit = append(hit, ns)
		}
	}
	if len(hit) == 0 {
		return
	}
	sort.Strings(hit)
	p.untranslatable(d.loc, "action", "Deny", fmt.Sprintf("the policy's order (%s) puts it after the Kubernetes NetworkPolicies in namespace(s) %s (order %d) in Calico: what they allow, Calico allowed; Cilium's deny wins over their allows. Kept as a deny", orderText(p.order), strings.Join(hit, ", "), k8sPolicyOrder))
}
