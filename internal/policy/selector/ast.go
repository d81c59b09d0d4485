package selector

import (
	"strings"
)

// Node is one node of a parsed selector.
type Node interface {
	// Evaluate reports whether labels match, with Calico's semantics.
	Evaluate(labels map[string]string) bool
	// String is the canonical form; parsing it gives back an equal tree.
	String() string
	// Span is where the node was in the parsed input.
	Span() Span
}

// Span is a byte range [Start, End) of the parsed input.
type Span struct{ Start, End int }

// Pos is embedded in every node: where it was in the input.
type Pos struct{ Start, End int }

// Span returns the node's span.
func (p Pos) Span() Span { return Span(p) }

// CompareOp is the operator of a Compare node.
type CompareOp string

// The comparison operators.
const (
	OpEq         CompareOp = "=="
	OpNe         CompareOp = "!="
	OpContains   CompareOp = "contains"
	OpStartsWith CompareOp = "starts with"
	OpEndsWith   CompareOp = "ends with"
)

// All is all() (or the empty selector): it matches everything.
type All struct{ Pos }

// Global is global(): Calico evaluates it as true; it only has meaning as a namespace selector.
type Global struct{ Pos }

// Compare is `key <op> "value"`.
type Compare struct {
	Pos
	Key   string
	Op    CompareOp
	Value string
}

// Has is has(key).
type Has struct {
	Pos
	Key string
}

// InSet is `key in {...}` or, Negated, `key not in {...}`. Values are sorted and de-duplicated.
type InSet struct {
	Pos
	Key     string
	Values  []string
	Negated bool
}

// Not is !X.
type Not struct {
	Pos
	X Node
}

// And is X1 && X2 && ...; it always has at least two operands.
type And struct {
	Pos
	Xs []Node
}

// Or is X1 || X2 || ...; it always has at least two operands.
type Or struct {
	Pos
	Xs []Node
}

func (All) Evaluate(map[string]string) bool    { return true }
func (Global) Evaluate(map[string]string) bool { return true }

func (n *Compare) Evaluate(labels map[string]string) bool {
	v, ok := labels[n.Key]
	switch n.Op {
	case OpEq:
		return ok && v == n.Value
	case OpNe:
		return !ok || v != n.Value
	case OpContains:
		return ok && strings.Contains(v, n.Value)
	case OpStartsWith:
		return ok && strings.HasPrefix(v, n.Value)
	case OpEndsWith:
		return ok && strings.HasSuffix(v, n.Value)
	}
	return false
}

func (n *Has) Evaluate(labels map[string]string) bool { _, ok := labels[n.Key]; return ok }

func (n *InSet) Evaluate(labels map[string]string) bool {
	v, ok := labels[n.Key]
	if !ok {
		return n.Negated
	}
	in := false
	for _, x := range n.Values {
		if x == v {
			in = true
			break
		}
	}
	return in != n.Negated
}

func (n *Not) Evaluate(labels map[string]string) bool { return !n.X.Evaluate(labels) }

func (n *And) Evaluate(labels map[string]string) bool {
	for _, x := range n.Xs {
		if !x.Evaluate(labels) {
			return false
		}
	}
	return true
}

func (n *Or) Evaluate(labels map[string]string) bool {
	for _, x := range n.Xs {
		if x.Evaluate(labels) {
			return true
		}
	}
	return false
}

func (All) String() string        { return "all()" }
func (Global) String() string     { return "global()" }
func (n *Compare) String() string { return n.Key + " " + string(n.Op) + " " + quote(n.Value) }
func (n *Has) String() string     { return "has(" + n.Key + ")" }
func (n *And) String() string     { return join(n.Xs, " && ") }
func (n *Or) String() string      { return join(n.Xs, " || ") }
func (n *InSet) String() string   { return n.Key + " " + n.op() + " {" + quoteAll(n.Values) + "}" }
func (n *InSet) op() string       { return map[bool]string{false: "in", true: "not in"}[n.Negated] }
func (n *Not) String() string     { return "!" + notOperand(n.X) }
func notOperand(x Node) string {
	if _, double := x.(*Not); double {
		// "!!x" would parse back as x: keep the tree by parenthesising.
		return "(" + x.String() + ")"
	}
	return x.String()
}

func join(xs []Node, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// quote uses double quotes unless the value contains one (a value never contains both kinds).
func quote(s string) string {
	if strings.Contains(s, `"`) {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

func quoteAll(vs []string) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = quote(v)
	}
	return strings.Join(parts, ", ")
}

// Equal reports whether two trees are the same, ignoring spans.
func Equal(a, b Node) bool {
	return a.String() == b.String()
}
