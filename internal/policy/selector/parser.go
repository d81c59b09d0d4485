package selector

import (
	"slices"
	"strings"
)

// Selector is a parsed Calico selector.
type Selector struct {
	// Source is the selector as written.
	Source string
	// Root is the parsed tree (All for the empty selector).
	Root Node
}

// MaxDepth bounds how deeply a selector nests: levels of parentheses, and of the &&, || and !
// operators a tree holds. Real selectors nest a few levels; the bound keeps a hostile or broken one
// (a policy is user input) from exhausting the stack of the parser and of every walk of its tree.
const MaxDepth = 100

// Parse parses a Calico selector. Errors are *ParseError values with the offending position.
func Parse(input string) (*Selector, error) {
	toks, err := tokenize(input)
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tokEOF {
		return &Selector{Source: input, Root: &All{Pos{0, len(input)}}}, nil
	}
	p := &parser{input: input, toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errAt(input, t.start, "unexpected %s after a complete expression", t.kind)
	}
	if n := tooDeep(root, 1); n != nil {
		return nil, errTooDeep(input, n.Span().Start)
	}
	return &Selector{Source: input, Root: root}, nil
}

// MustParse is Parse for selectors known to be valid (tests, constants); it panics on error.
func MustParse(input string) *Selector {
	s, err := Parse(input)
	if err != nil {
		panic(err)
	}
	return s
}

// Evaluate reports whether the labels match the selector, with Calico's semantics.
func (s *Selector) Evaluate(labels map[string]string) bool { return s.Root.Evaluate(labels) }

// String is the canonical form of the selector.
func (s *Selector) String() string { return s.Root.String() }

// Text is the source text of a node of this selector, as written.
func (s *Selector) Text(n Node) string {
	sp := n.Span()
	return strings.TrimSpace(s.Source[sp.Start:sp.End])
}

type parser struct {
	input string
	toks  []token
	i     int
	depth int // parentheses open at the current token
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// or parses and-expressions separated by "||" (the lowest precedence).
func (p *parser) or() (Node, error) {
	return p.list(tokOr, p.and, func(sp Pos, xs []Node) Node { return &Or{sp, xs} })
}

// and parses operations separated by "&&".
func (p *parser) and() (Node, error) {
	return p.list(tokAnd, p.operation, func(sp Pos, xs []Node) Node { return &And{sp, xs} })
}

func (p *parser) list(sep tokenKind, item func() (Node, error), mk func(Pos, []Node) Node) (Node, error) {
	first, err := item()
	if err != nil {
		return nil, err
	}
	xs := []Node{first}
	for p.peek().kind == sep {
		p.take()
		x, err := item()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	if len(xs) == 1 {
		return first, nil
	}
	return mk(Pos{first.Span().Start, xs[len(xs)-1].Span().End}, xs), nil
}

// operation parses one possibly negated operation; a run of "!" collapses to one negation.
func (p *parser) operation() (Node, error) {
	start := p.peek().start
	negated := false
	for p.peek().kind == tokNot {
		p.take()
		negated = !negated
	}
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	if negated {
		return &Not{Pos{start, x.Span().End}, x}, nil
	}
	return x, nil
}

func (p *parser) primary() (Node, error) {
	t := p.take()
	sp := Pos{t.start, t.end}
	switch t.kind {
	case tokHas:
		return &Has{sp, t.value}, nil
	case tokAll:
		return &All{sp}, nil
	case tokGlobal:
		return &Global{sp}, nil
	case tokLabel:
		return p.labelOp(t)
	case tokLParen:
		if p.depth++; p.depth > MaxDepth {
			return nil, errTooDeep(p.input, t.start)
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if r := p.peek(); r.kind != tokRParen {
			return nil, errAt(p.input, r.start, "expected ')' to close the '(' at column %d, found %s", t.start+1, r.kind)
		}
		end := p.take().end
		return withSpan(x, Pos{t.start, end}), nil
	}
	return nil, errAt(p.input, t.start, "expected a label, has(), all(), global(), '!' or '(', found %s", t.kind)
}

var compareOps = map[tokenKind]CompareOp{
	tokEq: OpEq, tokNe: OpNe, tokContains: OpContains, tokStartsWith: OpStartsWith, tokEndsWith: OpEndsWith,
}

// labelOp parses what follows a label: an operator and a string, or a set.
func (p *parser) labelOp(label token) (Node, error) {
	op := p.take()
	if cop, ok := compareOps[op.kind]; ok {
		v := p.take()
		if v.kind != tokString {
			return nil, errAt(p.input, v.start, "expected a quoted string after %s, found %s", op.kind, v.kind)
		}
		return &Compare{Pos{label.start, v.end}, label.value, cop, v.value}, nil
	}
	if op.kind != tokIn && op.kind != tokNotIn {
		return nil, errAt(p.input, op.start, "expected an operator (==, !=, in, not in, contains, starts with, ends with) after label %q, found %s", label.value, op.kind)
	}
	if b := p.take(); b.kind != tokLBrace {
		return nil, errAt(p.input, b.start, "expected a set literal '{' after %s, found %s", op.kind, b.kind)
	}
	var values []string
	for p.peek().kind == tokString {
		values = append(values, p.take().value)
		if p.peek().kind != tokComma {
			break
		}
		p.take()
	}
	end := p.take()
	if end.kind != tokRBrace {
		return nil, errAt(p.input, end.start, "expected a quoted string or '}' in the set, found %s", end.kind)
	}
	slices.Sort(values)
	values = slices.Compact(values)
	return &InSet{Pos{label.start, end.end}, label.value, values, op.kind == tokNotIn}, nil
}

func errTooDeep(input string, pos int) *ParseError {
	return errAt(input, pos, "nests more than %d levels deep (parentheses, &&, ||, !)", MaxDepth)
}

// tooDeep returns the first node below MaxDepth levels of operators (depth is n's level), or nil.
// The parser bounds parentheses, so this walk's own depth is bounded too.
func tooDeep(n Node, depth int) Node {
	if depth > MaxDepth {
		return n
	}
	var children []Node
	switch x := n.(type) {
	case *Not:
		children = []Node{x.X}
	case *And:
		children = x.Xs
	case *Or:
		children = x.Xs
	}
	for _, c := range children {
		if deep := tooDeep(c, depth+1); deep != nil {
			return deep
		}
	}
	return nil
}

// withSpan widens a node's span to include the parentheses around it.
func withSpan(n Node, sp Pos) Node {
	switch x := n.(type) {
	case *All:
		x.Pos = sp
	case *Global:
		x.Pos = sp
	case *Compare:
		x.Pos = sp
	case *Has:
		x.Pos = sp
	case *InSet:
		x.Pos = sp
	case *Not:
		x.Pos = sp
	case *And:
		x.Pos = sp
	case *Or:
		x.Pos = sp
	}
	return n
}
