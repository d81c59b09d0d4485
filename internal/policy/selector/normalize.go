package selector

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// keyCons is everything one conjunction requires of one key.
type keyCons struct {
	exists, absent bool
	in             map[string]bool // nil: any value
	notIn          map[string]bool
}

func (c *keyCons) add(r Requirement) {
	switch r.Op {
	case metav1.LabelSelectorOpIn:
		c.exists = true
		vals := setOf(r.Values)
		if c.in == nil {
			c.in = vals
			return
		}
		for v := range c.in {
			if !vals[v] {
				delete(c.in, v)
			}
		}
	case metav1.LabelSelectorOpNotIn:
		if c.notIn == nil {
			c.notIn = map[string]bool{}
		}
		for _, v := range r.Values {
			c.notIn[v] = true
		}
	case metav1.LabelSelectorOpExists:
		c.exists = true
	case metav1.LabelSelectorOpDoesNotExist:
		c.absent = true
	}
}

// requirements renders the constraint as at most two requirements; ok is false when nothing can
// satisfy it.
func (c *keyCons) requirements(key string) (out []Requirement, ok bool) {
	if c.in != nil {
		for v := range c.notIn {
			delete(c.in, v)
		}
		if len(c.in) == 0 || c.absent {
			return nil, false
		}
		return []Requirement{{Key: key, Op: metav1.LabelSelectorOpIn, Values: sortedKeys(c.in)}}, true
	}
	if c.absent {
		if c.exists {
			return nil, false
		}
		// NotIn is implied by absence.
		return []Requirement{{Key: key, Op: metav1.LabelSelectorOpDoesNotExist}}, true
	}
	if c.exists {
		out = append(out, Requirement{Key: key, Op: metav1.LabelSelectorOpExists})
	}
	if len(c.notIn) > 0 {
		out = append(out, Requirement{Key: key, Op: metav1.LabelSelectorOpNotIn, Values: sortedKeys(c.notIn)})
	}
	return out, true
}

func consOf(t []Requirement) map[string]*keyCons {
	cons := map[string]*keyCons{}
	for _, r := range t {
		if cons[r.Key] == nil {
			cons[r.Key] = &keyCons{}
		}
		cons[r.Key].add(r)
	}
	return cons
}

// normalizeTerm merges the requirements key by key; ok is false for a contradiction.
func normalizeTerm(reqs []Requirement) (Term, bool) {
	cons := consOf(reqs)
	out := Term{}
	for _, key := range sortedKeys(cons) {
		rs, ok := cons[key].requirements(key)
		if !ok {
			return nil, false
		}
		out = append(out, rs...)
	}
	return out, true
}

// normalizeAll normalises every term, drops contradictions (with a note), removes terms implied by
// others, merges terms differing only in one key's In values, and sorts.
func normalizeAll(raw [][]Requirement, limit int) (DNF, []string) {
	var notes []string
	var d DNF
	for _, reqs := range raw {
		t, ok := normalizeTerm(reqs)
		if !ok {
			notes = append(notes, fmt.Sprintf("dropped the alternative %s: it can never match", describe(reqs)))
			continue
		}
		d = append(d, t)
	}
	for changed := true; changed; {
		d = removeImplied(d)
		d, changed = mergeOne(d)
	}
	slices.SortFunc(d, func(a, b Term) int { return strings.Compare(a.String(), b.String()) })
	return d, notes
}

// removeImplied drops every term that implies another one (it adds no matches) and duplicates.
func removeImplied(d DNF) DNF {
	var out DNF
	for i, t := range d {
		redundant := false
		for j, u := range d {
			if i != j && implies(t, u) && (!implies(u, t) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, t)
		}
	}
	return out
}

// implies reports whether every label set matching t also matches u.
func implies(t, u Term) bool {
	cons := consOf(t)
	for _, r := range u {
		c := cons[r.Key]
		if c == nil {
			c = &keyCons{}
		}
		if !satisfies(c, r) {
			return false
		}
	}
	return true
}

func satisfies(c *keyCons, r Requirement) bool {
	switch r.Op {
	case metav1.LabelSelectorOpIn:
		return c.in != nil && subset(c.in, setOf(r.Values))
	case metav1.LabelSelectorOpNotIn:
		if c.absent || subset(setOf(r.Values), c.notIn) {
			return true
		}
		return c.in != nil && !intersects(c.in, setOf(r.Values))
	case metav1.LabelSelectorOpExists:
		return c.exists || c.in != nil
	case metav1.LabelSelectorOpDoesNotExist:
		return c.absent
	}
	return false
}

// mergeOne merges the first pair of terms that differ only in the values of one In requirement.
func mergeOne(d DNF) (DNF, bool) {
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if m, ok := mergeIn(d[i], d[j]); ok {
				out := append(append(DNF{}, d[:i]...), m)
				out = append(out, d[i+1:j]...)
				return append(out, d[j+1:]...), true
			}
		}
	}
	return d, false
}

func mergeIn(a, b Term) (Term, bool) {
	if len(a) != len(b) {
		return nil, false
	}
	diff := -1
	for k := range a {
		if a[k].Key != b[k].Key || a[k].Op != b[k].Op {
			return nil, false
		}
		if !slices.Equal(a[k].Values, b[k].Values) {
			if diff >= 0 || a[k].Op != metav1.LabelSelectorOpIn {
				return nil, false
			}
			diff = k
		}
	}
	if diff < 0 {
		return nil, false
	}
	m := slices.Clone(a)
	vals := setOf(a[diff].Values)
	maps.Copy(vals, setOf(b[diff].Values))
	m[diff] = Requirement{Key: a[diff].Key, Op: metav1.LabelSelectorOpIn, Values: sortedKeys(vals)}
	return m, true
}

// String renders a term in Kubernetes selector syntax (for sorting and messages).
func (t Term) String() string {
	parts := make([]string, len(t))
	for i, r := range t {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (r Requirement) String() string {
	switch r.Op {
	case metav1.LabelSelectorOpIn:
		return r.Key + " in (" + strings.Join(r.Values, ",") + ")"
	case metav1.LabelSelectorOpNotIn:
		return r.Key + " notin (" + strings.Join(r.Values, ",") + ")"
	case metav1.LabelSelectorOpExists:
		return r.Key
	}
	return "!" + r.Key
}

// describe names a raw conjunction by the Calico constructs it came from.
func describe(reqs []Requirement) string {
	var parts []string
	for _, r := range reqs {
		s := r.Source
		if s == "" {
			s = r.String()
		}
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return "`" + strings.Join(parts, " && ") + "`"
}

func setOf(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func subset(a, b map[string]bool) bool {
	for v := range a {
		if !b[v] {
			return false
		}
	}
	return true
}

func intersects(a, b map[string]bool) bool {
	for v := range a {
		if b[v] {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// LabelSelector renders the term: single-valued In as matchLabels, the rest as matchExpressions.
func (t Term) LabelSelector() metav1.LabelSelector {
	var ls metav1.LabelSelector
	for _, r := range t {
		if r.Op == metav1.LabelSelectorOpIn && len(r.Values) == 1 {
			if ls.MatchLabels == nil {
				ls.MatchLabels = map[string]string{}
			}
			ls.MatchLabels[r.Key] = r.Values[0]
			continue
		}
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: r.Key, Operator: r.Op, Values: slices.Clone(r.Values),
		})
	}
	return ls
}

// LabelSelectors renders every term; the DNF matches when any of them does.
func (d DNF) LabelSelectors() []metav1.LabelSelector {
	out := make([]metav1.LabelSelector, len(d))
	for i, t := range d {
		out[i] = t.LabelSelector()
	}
	return out
}
