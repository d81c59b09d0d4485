package policy

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/policy/selector"
)

// Options tune the translation.
type Options struct {
	// ClusterCIDRs are the cluster's own address ranges: pod CIDRs (Calico's and Cilium's), the
	// service CIDR and the nodes' addresses. Required: Calico nets are compared with them because
	// Cilium's CIDR rules never match cluster endpoints.
	ClusterCIDRs []netip.Prefix
	// MaxSelectors bounds the alternatives one selector may expand to (0: the default).
	MaxSelectors int
}

// Input is everything read from the cluster or a backup.
type Input struct {
	Policies    []Policy
	NetworkSets []NetworkSet
	// K8sPolicyNamespaces are the namespaces holding Kubernetes NetworkPolicies; nil when unknown.
	K8sPolicyNamespaces map[string]bool
	// Notes are about reading the input (duplicates, skipped objects).
	Notes []Finding
	// Namespaces, when not empty, limits the NetworkPolicies translated (written and reported);
	// every policy still takes part in the order check, as Calico evaluates them all.
	Namespaces []string
}

// inScope reports whether the policy is translated (GlobalNetworkPolicies always are).
func (in Input) inScope(p Policy) bool {
	return p.Kind != KindNetworkPolicy || len(in.Namespaces) == 0 || slices.Contains(in.Namespaces, p.Metadata.Namespace)
}

// Result is the translation: the Cilium policies and the report, both sorted.
type Result struct {
	Objects []CiliumPolicy
	Report  Report
}

// Translate translates every policy of the input. Untranslatable constructs are reported, never
// approximated silently; a policy whose selector cannot be translated yields no object at all.
func Translate(in Input, opts Options) (*Result, error) {
	if len(opts.ClusterCIDRs) == 0 {
		return nil, errors.New("translate: no cluster CIDRs given (pod, service and node address ranges)")
	}
	if opts.MaxSelectors <= 0 {
		opts.MaxSelectors = defaults.PolicyMaxSelectors
	}
	var ctxs []*policyCtx
	for _, p := range in.Policies {
		c := newPolicyCtx(p, in.NetworkSets, opts)
		c.translate()
		ctxs = append(ctxs, c)
	}
	checkOrder(ctxs, in.K8sPolicyNamespaces)
	res := &Result{Report: Report{Notes: in.Notes}}
	for _, c := range ctxs {
		if !in.inScope(c.p) {
			continue
		}
		c.rep.Complete = len(c.rep.Untranslatable) == 0
		if c.written {
			c.obj = c.build()
			res.Objects = append(res.Objects, *c.obj)
			c.rep.Translated = []ObjectRef{{Kind: c.obj.Kind, Namespace: c.obj.Metadata.Namespace, Name: c.obj.Metadata.Name}}
		}
		if c.rep.Translated == nil {
			c.rep.Translated = []ObjectRef{}
		}
		res.Report.Policies = append(res.Report.Policies, c.rep)
	}
	slices.SortFunc(res.Objects, func(a, b CiliumPolicy) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Metadata.Namespace, b.Metadata.Namespace),
			cmp.Compare(a.Metadata.Name, b.Metadata.Name))
	})
	res.Report.sort()
	return res, nil
}

// ruleLoc locates a finding: a rule (dir, idx) or the policy itself (idx < 0).
type ruleLoc struct {
	dir string
	idx int
}

var policyLevel = ruleLoc{idx: -1}

// policyCtx is the translation of one policy in progress.
type policyCtx struct {
	p       Policy
	global  bool
	ns      string
	label   string
	opts    Options
	sets    []NetworkSet
	rep     PolicyReport
	types   map[string]bool
	subject selector.DNF // valid when subjectOK
	subOK   bool
	order   float64
	rules   []ruleSummary
	parts   map[string][]part // translated rules per direction
	omit    map[ruleLoc]bool  // rules left out by the order check
	written bool              // an object is written for the policy
	obj     *CiliumPolicy
}

func newPolicyCtx(p Policy, sets []NetworkSet, opts Options) *policyCtx {
	c := &policyCtx{p: p, global: p.Kind == KindGlobalNetworkPolicy, ns: p.Metadata.Namespace, opts: opts, sets: sets,
		parts: map[string][]part{}, omit: map[ruleLoc]bool{}}
	c.rep.Source = ObjectRef{Kind: p.Kind, Namespace: c.ns, Name: p.Metadata.Name}
	c.label = c.rep.Source.String()
	c.rep.Untranslatable, c.rep.Notes = []Finding{}, []Finding{}
	c.order = math.Inf(1)
	if p.Spec.Order != nil {
		c.order = *p.Spec.Order
	}
	return c
}

func (c *policyCtx) finding(loc ruleLoc, field, construct, reason string) Finding {
	f := Finding{Policy: c.label, Field: field, Construct: construct, Reason: reason}
	if !strings.HasPrefix(field, "metadata.") {
		f.Field = "spec." + field
	}
	if loc.idx >= 0 {
		i := loc.idx
		f.Direction, f.RuleIndex = loc.dir, &i
		f.Field = fmt.Sprintf("spec.%s[%d].%s", loc.dir, loc.idx, field)
	}
	return f
}

func (c *policyCtx) untranslatable(loc ruleLoc, field, construct, reason string) {
	c.rep.Untranslatable = append(c.rep.Untranslatable, c.finding(loc, field, construct, reason))
}

func (c *policyCtx) note(loc ruleLoc, field, construct, reason string) {
	c.rep.Notes = append(c.rep.Notes, c.finding(loc, field, construct, reason))
}

func (c *policyCtx) translate() {
	if strings.HasPrefix(c.p.Metadata.Name, "knp.default.") {
		c.note(policyLevel, "metadata.name", c.p.Metadata.Name, "Calico's view of a Kubernetes NetworkPolicy: Cilium enforces the Kubernetes object itself")
		return
	}
	for _, u := range c.p.Unknown {
		c.untranslatable(policyLevel, strings.TrimPrefix(u, "spec."), u, "a field this translator does not know; review it by hand")
	}
	writable := c.policyFields()
	c.types = c.policyTypes()
	c.subject, c.subOK = c.subjectDNF()
	if !c.subOK {
		return
	}
	if c.subject.IsFalse() {
		c.note(policyLevel, "selector", c.p.Spec.Selector, "the selector can never match a pod: nothing to translate")
		return
	}
	// The rules are translated even when the policy is not written, to report all they hold. The
	// object is built once the order check has run.
	c.parts["ingress"] = c.direction("ingress", c.p.Spec.Ingress)
	c.parts["egress"] = c.direction("egress", c.p.Spec.Egress)
	c.written = writable
}

// policyFields reports the policy-level fields without a Cilium equivalent. It returns false when
// the policy must not be written at all: its endpoints or its place in the evaluation order
// cannot be expressed, so any object would apply rules to the wrong pods or in the wrong order.
func (c *policyCtx) policyFields() bool {
	s := c.p.Spec
	writable := true
	skip := func(field, construct, reason string) {
		c.untranslatable(policyLevel, field, construct, reason+"; no Cilium policy is written for it")
		writable = false
	}
	if s.Tier != "" && s.Tier != "default" {
		skip("tier", s.Tier, "tiers order policies ahead of all others and give Pass its meaning; Cilium has no tiers")
	}
	if s.ServiceAccountSelector != "" {
		skip("serviceAccountSelector", s.ServiceAccountSelector, "Cilium identities carry the service account's name, not its labels")
	}
	if !c.global && s.NamespaceSelector != "" {
		skip("namespaceSelector", s.NamespaceSelector, "a namespaced NetworkPolicy cannot select namespaces")
	}
	if s.DoNotTrack {
		skip("doNotTrack", "true", "untracked (pre-conntrack) policy for host endpoints has no Cilium network-policy equivalent")
	}
	if s.PreDNAT {
		skip("preDNAT", "true", "policy for host endpoints applied before DNAT has no Cilium network-policy equivalent")
	}
	if s.ApplyOnForward {
		c.untranslatable(policyLevel, "applyOnForward", "true", "the policy also applies to traffic host endpoints forward, which Cilium network policies do not cover; only its effect on pods is translated")
	}
	return writable
}

// policyTypes are the directions the policy governs, defaulted the way Calico defaults them.
func (c *policyCtx) policyTypes() map[string]bool {
	s := c.p.Spec
	t := map[string]bool{}
	if len(s.Types) == 0 {
		t["ingress"] = len(s.Ingress) > 0 || len(s.Egress) == 0
		t["egress"] = len(s.Egress) > 0
		return t
	}
	for _, x := range s.Types {
		switch x {
		case "Ingress", "Egress":
			t[strings.ToLower(x)] = true
		default:
			c.untranslatable(policyLevel, "types", x, "not a policy type (Ingress or Egress)")
		}
	}
	return t
}

// subjectDNF is the policy's own endpoints: its selector within its namespace (NetworkPolicy) or
// within the namespaces its namespaceSelector picks (GlobalNetworkPolicy; pods only).
func (c *policyCtx) subjectDNF() (selector.DNF, bool) {
	d, ok := c.dnf(c.p.Spec.Selector, podKey, policyLevel, "selector")
	if !ok {
		return nil, false
	}
	sel := c.p.Spec.Selector
	if !c.global {
		return c.and(d, selector.Of(nsIn(c.ns)), policyLevel, "selector", sel)
	}
	if nsSel := c.p.Spec.NamespaceSelector; nsSel != "" {
		nd, ok := c.dnf(nsSel, namespaceKey, policyLevel, "namespaceSelector")
		if !ok {
			return nil, false
		}
		if d, ok = c.and(d, nd, policyLevel, "namespaceSelector", nsSel); !ok {
			return nil, false
		}
	}
	return c.and(d, selector.Of(nsExists()), policyLevel, "selector", sel)
}

func nsIn(ns string) selector.Requirement {
	return selector.Requirement{Key: ciliumNamespaceKey, Op: metav1.LabelSelectorOpIn, Values: []string{ns}, Source: "namespace " + ns}
}

func nsExists() selector.Requirement {
	return selector.Requirement{Key: ciliumNamespaceKey, Op: metav1.LabelSelectorOpExists}
}

// dnf parses and translates a selector; failures are reported on field and give ok false.
func (c *policyCtx) dnf(text string, m selector.KeyMapper, loc ruleLoc, field string) (selector.DNF, bool) {
	sel, err := selector.Parse(text)
	if err != nil {
		c.untranslatable(loc, field, text, "does not parse: "+err.Error())
		return nil, false
	}
	d, notes, err := sel.ToDNF(m, c.opts.MaxSelectors)
	var ue *selector.UntranslatableError
	switch {
	case errors.As(err, &ue):
		c.untranslatable(loc, field, ue.Construct, ue.Reason)
		return nil, false
	case err != nil:
		c.untranslatable(loc, field, text, err.Error())
		return nil, false
	}
	for _, n := range notes {
		c.note(loc, field, text, n)
	}
	return d, true
}

// and conjoins two DNFs; construct names the selector text the finding is about.
func (c *policyCtx) and(a, b selector.DNF, loc ruleLoc, field, construct string) (selector.DNF, bool) {
	d, notes, err := selector.Conjoin(a, b, c.opts.MaxSelectors)
	if err != nil {
		c.untranslatable(loc, field, construct, err.Error())
		return nil, false
	}
	for _, n := range notes {
		c.note(loc, field, construct, n)
	}
	return d, true
}
