package policy

import (
	"cmp"
	"fmt"
	"slices"
)

// Finding is one construct of a Calico policy that was not translated (or a note about one that
// was translated with a caveat): where it is, what it says, and why.
type Finding struct {
	// Policy is "<Kind> <namespace>/<name>" or "<Kind> <name>".
	Policy string `json:"policy"`
	// Direction is "ingress" or "egress" for a rule-level finding, empty for the policy.
	Direction string `json:"direction,omitempty"`
	// RuleIndex is the index of the rule in spec.ingress / spec.egress (rule-level findings).
	RuleIndex *int `json:"rule_index,omitempty"`
	// Field is the path of the field, e.g. spec.ingress[1].source.selector.
	Field string `json:"field"`
	// Construct is the offending text, as written.
	Construct string `json:"construct"`
	// Reason says why it cannot be (or was not exactly) expressed in Cilium.
	Reason string `json:"reason"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s: %s", f.Policy, f.Field, f.Construct, f.Reason)
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r ObjectRef) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

// PolicyReport is the outcome for one Calico policy.
type PolicyReport struct {
	Source ObjectRef `json:"source"`
	// Translated lists the Cilium objects written for it (empty when nothing was).
	Translated []ObjectRef `json:"translated"`
	// Complete is true when nothing of the policy was left out.
	Complete       bool      `json:"complete"`
	Untranslatable []Finding `json:"untranslatable"`
	Notes          []Finding `json:"notes"`
}

// Report is the outcome for every policy, sorted by kind, namespace and name.
type Report struct {
	Policies []PolicyReport `json:"policies"`
	// Notes are about the input as a whole (duplicates, objects skipped while reading).
	Notes []Finding `json:"notes,omitempty"`
}

// Untranslatable lists every untranslatable construct of every policy, in report order.
func (r *Report) Untranslatable() []Finding {
	var out []Finding
	for _, p := range r.Policies {
		out = append(out, p.Untranslatable...)
	}
	return out
}

// AllNotes lists the report's notes and every note of every policy.
func (r *Report) AllNotes() []Finding {
	out := append([]Finding(nil), r.Notes...)
	for _, p := range r.Policies {
		out = append(out, p.Notes...)
	}
	return out
}

// Incomplete lists the policies with untranslatable constructs.
func (r *Report) Incomplete() []ObjectRef {
	var out []ObjectRef
	for _, p := range r.Policies {
		if !p.Complete {
			out = append(out, p.Source)
		}
	}
	return out
}

func (r *Report) sort() {
	slices.SortFunc(r.Policies, func(a, b PolicyReport) int { return compareRefs(a.Source, b.Source) })
	for i := range r.Policies {
		sortFindings(r.Policies[i].Untranslatable)
		sortFindings(r.Policies[i].Notes)
	}
	sortFindings(r.Notes)
}

func compareRefs(a, b ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Direction, b.Direction),
			cmp.Compare(index(a.RuleIndex), index(b.RuleIndex)), cmp.Compare(a.Field, b.Field),
			cmp.Compare(a.Construct, b.Construct), cmp.Compare(a.Reason, b.Reason))
	})
}

func index(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
