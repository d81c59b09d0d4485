package selector

import (
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Operator is a label-selector operator: In, NotIn, Exists or DoesNotExist.
type Operator = metav1.LabelSelectorOperator

// Requirement is one label-selector requirement on a (translated) key.
type Requirement struct {
	Key    string
	Op     Operator
	Values []string // sorted, for In and NotIn
	// Source is the Calico construct it came from (for notes); empty for added requirements.
	Source string
}

// Term is a conjunction of requirements, normalised: at most one requirement per key and
// operator, sorted by key. The empty term matches everything.
type Term []Requirement

// DNF is a disjunction of terms. No terms means "matches nothing"; one empty term means
// "matches everything".
type DNF []Term

// True is the DNF that matches everything.
func True() DNF { return DNF{Term{}} }

// Of is the DNF of one conjunction of requirements (normalised; it may turn out to be empty).
func Of(reqs ...Requirement) DNF {
	d, _ := normalizeAll([][]Requirement{reqs}, 0)
	return d
}

// IsFalse reports whether the DNF matches nothing.
func (d DNF) IsFalse() bool { return len(d) == 0 }

// IsTrue reports whether the DNF matches everything.
func (d DNF) IsTrue() bool { return len(d) == 1 && len(d[0]) == 0 }

// KeyMapper translates a Calico label key into the key the label selectors use, or fails with the
// reason the key cannot be translated.
type KeyMapper func(key string) (string, error)

// Identity maps every valid Kubernetes label key to itself.
func Identity(key string) (string, error) {
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return "", fmt.Errorf("not a valid Kubernetes label key (%s), so no pod can carry it", errs[0])
	}
	return key, nil
}

// ToDNF translates the selector to a DNF with keys mapped by m. limit bounds the number of terms
// (0: no bound). Notes describe alternatives dropped because they can never match. Untranslatable
// constructs fail with *UntranslatableError.
func (s *Selector) ToDNF(m KeyMapper, limit int) (DNF, []string, error) {
	if m == nil {
		m = Identity
	}
	f, err := s.nnf(s.Root, false, m)
	if err != nil {
		return nil, nil, err
	}
	terms, err := expand(f, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("selector %q: %w", s.Source, err)
	}
	d, notes := normalizeAll(terms, limit)
	if limit > 0 && len(d) > limit {
		return nil, nil, fmt.Errorf("selector %q: it expands to %d alternatives, more than %d", s.Source, len(d), limit)
	}
	return d, notes, nil
}

// Conjoin is the conjunction of two DNFs, normalised; notes describe dropped contradictions.
func Conjoin(a, b DNF, limit int) (DNF, []string, error) {
	if limit > 0 && len(a)*len(b) > limit*limit {
		return nil, nil, fmt.Errorf("the conjunction expands to %d alternatives, more than %d", len(a)*len(b), limit)
	}
	var terms [][]Requirement
	for _, x := range a {
		for _, y := range b {
			terms = append(terms, append(append([]Requirement(nil), x...), y...))
		}
	}
	d, notes := normalizeAll(terms, limit)
	if limit > 0 && len(d) > limit {
		return nil, nil, fmt.Errorf("the conjunction expands to %d alternatives, more than %d", len(d), limit)
	}
	return d, notes, nil
}

// formula is a negation normal form: a literal, a constant, or an and/or of formulas.
type formula struct {
	kind  byte // 'l' literal, 't' true, 'f' false, '&' and, '|' or
	lit   Requirement
	parts []formula
}

var (
	fTrue  = formula{kind: 't'}
	fFalse = formula{kind: 'f'}
)

// nnf pushes negation down to the literals (De Morgan) and translates them.
func (s *Selector) nnf(n Node, neg bool, m KeyMapper) (formula, error) {
	switch x := n.(type) {
	case *All:
		return map[bool]formula{false: fTrue, true: fFalse}[neg], nil
	case *Global:
		return formula{}, s.untranslatable(n, neg, "global() selects non-namespaced resources (GlobalNetworkSets, HostEndpoints), which Cilium label selectors cannot express")
	case *Not:
		if isLeaf(x.X) && !neg {
			// Name the construct as written, "!" included.
			f, err := s.nnf(x.X, true, m)
			var ue *UntranslatableError
			if errors.As(err, &ue) {
				ue.Construct = s.Text(x)
			}
			if f.kind == 'l' {
				f.lit.Source = s.Text(x)
			}
			return f, err
		}
		return s.nnf(x.X, !neg, m)
	case *And, *Or:
		return s.nnfBool(n, neg, m)
	}
	return s.literal(n, neg, m)
}

func (s *Selector) nnfBool(n Node, neg bool, m KeyMapper) (formula, error) {
	kind, xs := byte('&'), []Node(nil)
	switch x := n.(type) {
	case *And:
		xs = x.Xs
	case *Or:
		kind, xs = '|', x.Xs
	}
	if neg {
		kind = map[byte]byte{'&': '|', '|': '&'}[kind]
	}
	out := formula{kind: kind}
	for _, x := range xs {
		f, err := s.nnf(x, neg, m)
		if err != nil {
			return formula{}, err
		}
		out.parts = append(out.parts, f)
	}
	return out, nil
}

// literal translates a comparison, has() or set test, negated when neg.
func (s *Selector) literal(n Node, neg bool, m KeyMapper) (formula, error) {
	var key string
	var req Requirement
	switch x := n.(type) {
	case *Compare:
		key = x.Key
		switch {
		case x.Op == OpEq && !neg, x.Op == OpNe && neg:
			req = Requirement{Op: metav1.LabelSelectorOpIn, Values: []string{x.Value}}
		case x.Op == OpEq, x.Op == OpNe:
			req = Requirement{Op: metav1.LabelSelectorOpNotIn, Values: []string{x.Value}}
		default:
			return formula{}, s.untranslatable(n, neg, fmt.Sprintf("label selectors have no %q operator (only In, NotIn, Exists, DoesNotExist)", x.Op))
		}
	case *Has:
		key = x.Key
		req.Op = map[bool]Operator{false: metav1.LabelSelectorOpExists, true: metav1.LabelSelectorOpDoesNotExist}[neg]
	case *InSet:
		key = x.Key
		in := x.Negated == neg
		if len(x.Values) == 0 {
			// "in {}" never matches; "not in {}" always does.
			return map[bool]formula{true: fFalse, false: fTrue}[in], nil
		}
		req = Requirement{Op: map[bool]Operator{true: metav1.LabelSelectorOpIn, false: metav1.LabelSelectorOpNotIn}[in], Values: x.Values}
	default:
		return formula{}, fmt.Errorf("internal error: unexpected selector node %T", n)
	}
	for _, v := range req.Values {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return formula{}, s.untranslatable(n, neg, fmt.Sprintf("%q is not a valid Kubernetes label value (%s)", v, errs[0]))
		}
	}
	mapped, err := m(key)
	if err != nil {
		return formula{}, s.untranslatable(n, neg, fmt.Sprintf("label %q: %v", key, err))
	}
	req.Key, req.Source = mapped, s.construct(n, neg)
	return formula{kind: 'l', lit: req}, nil
}

func (s *Selector) construct(n Node, neg bool) string {
	text := s.Text(n)
	switch {
	case !neg:
		return text
	case strings.HasPrefix(text, "("):
		return "!" + text
	}
	return "!(" + text + ")"
}

func isLeaf(n Node) bool {
	switch n.(type) {
	case *Not, *And, *Or:
		return false
	}
	return true
}

func (s *Selector) untranslatable(n Node, neg bool, reason string) error {
	return &UntranslatableError{Construct: s.construct(n, neg), Reason: reason}
}

// expand distributes a formula into a list of conjunctions of literals.
func expand(f formula, limit int) ([][]Requirement, error) {
	switch f.kind {
	case 't':
		return [][]Requirement{nil}, nil
	case 'f':
		return nil, nil
	case 'l':
		return [][]Requirement{{f.lit}}, nil
	case '|':
		var out [][]Requirement
		for _, p := range f.parts {
			e, err := expand(p, limit)
			if err != nil {
				return nil, err
			}
			out = append(out, e...)
			if limit > 0 && len(out) > limit*limit {
				return nil, fmt.Errorf("it expands to more than %d alternatives", limit)
			}
		}
		return out, nil
	}
	out := [][]Requirement{nil}
	for _, p := range f.parts {
		e, err := expand(p, limit)
		if err != nil {
			return nil, err
		}
		var next [][]Requirement
		for _, a := range out {
			for _, b := range e {
				next = append(next, append(append([]Requirement(nil), a...), b...))
			}
		}
		if limit > 0 && len(next) > limit*limit {
			return nil, fmt.Errorf("it expands to more than %d alternatives", limit)
		}
		out = next
	}
	return out, nil
}
