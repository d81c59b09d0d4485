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

// checkOrder handles the Deny rules whose outcome depends on Calico's order.
//
// Calico evaluates the policies selecting an endpoint by ascending order and each policy's rules
// top to bottom; the first Allow or Deny that matches decides. Cilium applies every deny before
// any allow. A Deny is therefore translated as is unless an Allow that Calico evaluates before it
// (an earlier rule of the same policy, a rule of a policy of lower or equal order, Kubernetes
// NetworkPolicies at order 1000) can match the same traffic: Cilium's deny would drop what Calico
// allowed. Such a Deny is left out of the translation. That is exact when no Allow that Calico
// evaluates after the Deny can match its traffic either, because the policy's default deny then
// drops everything the Deny did and the earlier Allows did not admit (noted). Otherwise leaving it
// out admits what those later Allows allow, and it is reported as untranslatable.
func checkOrder(ctxs []*policyCtx, k8sPolicies map[string]bool) {
	for _, p := range ctxs {
		if !p.written {
			continue
		}
		for _, d := range p.rules {
			if d.deny {
				p.checkDeny(d, ctxs, k8sPolicies)
			}
		}
	}
}

func (p *policyCtx) checkDeny(d ruleSummary, ctxs []*policyCtx, k8sPolicies map[string]bool) {
	var earlier, later []string
	for _, q := range ctxs {
		if !q.written {
			continue
		}
		for _, a := range q.rules {
			if a.deny || a.loc.dir != d.loc.dir || !overlaps(p, d, q, a) {
				continue
			}
			name := describeRule(q, a, p)
			before, after := evaluatedBefore(p, d, q, a)
			if before {
				earlier = append(earlier, name)
			}
			if after {
				later = append(later, name)
			}
		}
	}
	if k8sPolicies == nil {
		p.note(d.loc, "action", "Deny", "Kubernetes NetworkPolicies were not read: the translation assumes none selects these pods (Calico evaluates them at order 1000)")
	} else if ns := p.k8sNamespaces(k8sPolicies); len(ns) > 0 {
		name := fmt.Sprintf("the Kubernetes NetworkPolicies of namespace(s) %s (order %d)", strings.Join(ns, ", "), k8sPolicyOrder)
		if p.order >= k8sPolicyOrder {
			earlier = append(earlier, name)
		} else {
			later = append(later, name)
		}
	}
	if len(earlier) == 0 {
		return
	}
	p.omit[d.loc] = true
	before := "Calico evaluates " + strings.Join(earlier, "; ") + " before this Deny, and the first match wins; Cilium applies every deny before any allow. "
	if len(later) == 0 {
		p.note(d.loc, "action", "Deny", before+"The Deny is left out, which is exact: nothing Calico evaluates after it allows its traffic, so the policy's default deny drops what it dropped")
		return
	}
	p.untranslatable(d.loc, "action", "Deny", before+"It also evaluates "+strings.Join(later, "; ")+
		" after the Deny, which wins over them. Keeping the Deny would drop what the earlier Allows admit; leaving it out (as done) admits what the later ones allow")
}

// evaluatedBefore says whether Calico evaluates allow rule a (of q) before and/or after deny rule
// d (of p). Equal orders are both: Calico breaks the tie by name, which this does not model.
func evaluatedBefore(p *policyCtx, d ruleSummary, q *policyCtx, a ruleSummary) (before, after bool) {
	switch {
	case q == p:
		return a.loc.idx < d.loc.idx, a.loc.idx > d.loc.idx
	case q.order == p.order:
		return true, true
	}
	return q.order < p.order, q.order > p.order
}

// k8sNamespaces are the namespaces with Kubernetes NetworkPolicies the policy's pods can be in.
func (p *policyCtx) k8sNamespaces(k8sPolicies map[string]bool) []string {
	var out []string
	for ns := range k8sPolicies {
		if !disjointDNF(p.subject, selector.Of(nsIn(ns))) {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out
}

func describeRule(q *policyCtx, a ruleSummary, p *policyCtx) string {
	where := fmt.Sprintf("Allow rule %s[%d]", a.loc.dir, a.loc.idx)
	if q == p {
		return where
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
	if (d.worldOnly && a.peerOK) || (a.worldOnly && d.peerOK) {
		return false // addresses outside the cluster never belong to a pod
	}
	return !(d.peerOK && a.peerOK && disjointDNF(d.peer, a.peer))
}

func disjointDNF(a, b selector.DNF) bool {
	d, _, err := selector.Conjoin(a, b, 0)
	return err == nil && d.IsFalse()
}
