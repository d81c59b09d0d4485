package selector

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{``, `all()`},
		{` `, `all()`},
		{` all() `, `all()`},
		{` (all() )`, `all()`},
		{`global( )`, `global()`},
		{`! (has( b)||! has(a ))`, `!(has(b) || !has(a))`},
		{`! (a == "b"&&! c != "d")`, `!(a == "b" && !c != "d")`},
		{`a == "'"`, `a == "'"`},
		{`a == '"'`, `a == '"'`},
		{`a contains '"'`, `a contains '"'`},
		{`a startswith '"'`, `a starts with '"'`},
		{`a starts   with 'x'`, `a starts with "x"`},
		{`a endswith "'"`, `a ends with "'"`},
		{`a!='"'`, `a != '"'`},
		{`a in {"z", "z", "x", "y", "x", "a"}`, `a in {"a", "x", "y", "z"}`},
		{`a in {'x',}`, `a in {"x"}`},
		{`a in {}`, `a in {}`},
		{`a notin{'x'}`, `a not in {"x"}`},
		{`a not	in {'x'}`, `a not in {"x"}`},
		{`contains contains 'contains'`, `contains contains "contains"`},
		{`in in {'in'}`, `in in {"in"}`},
		{`all == 'x'`, `all == "x"`},
		{`has(projectcalico.org/namespace)`, `has(projectcalico.org/namespace)`},
		{`k8s-app == "kube-dns"`, `k8s-app == "kube-dns"`},
		// Precedence: ! over &&, && over ||.
		{`a == 'x' || b == 'y' && c == 'z'`, `(a == "x" || (b == "y" && c == "z"))`},
		{`a == 'x' && b == 'y' || c == 'z'`, `((a == "x" && b == "y") || c == "z")`},
		{`(a == 'x' || b == 'y') && c == 'z'`, `((a == "x" || b == "y") && c == "z")`},
		{`!a == 'x' && b == 'y'`, `(!a == "x" && b == "y")`},
		{`!(a == 'x' && b == 'y')`, `!(a == "x" && b == "y")`},
		{`!a == 'x' || !b == 'y'`, `(!a == "x" || !b == "y")`},
		{`a == 'x' && b == 'y' && c == 'z'`, `(a == "x" && b == "y" && c == "z")`},
		{`(a == 'x' && b == 'y') && c == 'z'`, `((a == "x" && b == "y") && c == "z")`},
		// Runs of ! collapse; a parenthesised double negation is kept.
		{`!!has(a)`, `has(a)`},
		{`! !! has(a)`, `!has(a)`},
		{`!(!has(a))`, `!(!has(a))`},
	}
	for _, tc := range tests {
		sel, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := sel.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %s, want %s", tc.in, got, tc.want)
		}
		again, err := Parse(sel.String())
		if err != nil || !Equal(again.Root, sel.Root) {
			t.Errorf("canonical form %s of %q does not parse back to the same tree (err %v)", sel, tc.in, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in  string
		col int // 1-based column the error points at
	}{
		{`b == b`, 6},
		{`b contains b`, 12},
		{`b starts with b`, 15},
		{`'b1' == b`, 1},
		{`b`, 2},
		{`a b`, 3},
		{`!`, 2},
		{`foo == "bar" &`, 14},
		{`foo == "bar" |`, 14},
		{`foo == "bar" = 'x'`, 14},
		{`foo != ||`, 8},
		{`foo in {"", ||`, 13},
		{`foo in ""`, 8},
		{`foo in {'a' 'b'}`, 13},
		{`foo in {,}`, 9},
		{`"FOO`, 1},
		{`"FOO'`, 1},
		{`'FOO`, 1},
		{`(`, 2},
		{`(a == "foo"`, 12},
		{`)`, 1},
		{`()`, 2},
		{`%`, 1},
		{`a == "b" && %`, 13},
		{`a == "b" || %`, 13},
		{`a `, 3},
		{`has(foo) &&`, 12},
		{`a == 'x' b == 'y'`, 10},
		{"a == 'x'\n", 9},
		{`has()`, 4},
		{`a =~ 'x'`, 3},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *ParseError", tc.in, err)
			continue
		}
		if pe.Pos+1 != tc.col {
			t.Errorf("Parse(%q) error %q points at column %d, want %d", tc.in, pe.Error(), pe.Pos+1, tc.col)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	sel := MustParse(`app == 'web' && ( tier starts with 'fe' || !has(x) )`)
	and := sel.Root.(*And)
	if got := sel.Text(and.Xs[0]); got != `app == 'web'` {
		t.Errorf("Text of first operand = %q", got)
	}
	if got := sel.Text(and.Xs[1]); got != `( tier starts with 'fe' || !has(x) )` {
		t.Errorf("Text of second operand = %q", got)
	}
	or := and.Xs[1].(*Or)
	if got := sel.Text(or.Xs[0]); got != `tier starts with 'fe'` {
		t.Errorf("Text of starts with = %q", got)
	}
}

// TestParseBoundsNesting: a selector nested beyond MaxDepth is refused with a short, clear error
// pointing at where the nesting goes too deep, instead of recursing once per level (a million
// levels exhaust the stack and kill the module); up to MaxDepth it parses.
func TestParseBoundsNesting(t *testing.T) {
	t.Parallel()
	nest := func(open, leaf, close string, n int) string {
		return strings.Repeat(open, n) + leaf + strings.Repeat(close, n)
	}
	unit := "(a == 'x' || b == 'y' && " // one parenthesis, two levels of operators
	tooDeep := []struct {
		in     string
		maxCol int // the error points at or before this column: where the nesting goes too deep
	}{
		{strings.Repeat("(", 100000), MaxDepth + 1},
		{nest("(", "has(a)", ")", 100000), MaxDepth + 1},
		{nest("!(", "has(a)", ")", 100000), 2 * (MaxDepth + 1)},
		{nest(unit, "has(c)", ")", MaxDepth/2+1), len(unit) * (MaxDepth/2 + 1)},
	}
	for _, tc := range tooDeep {
		_, err := Parse(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "nests more than") {
			t.Errorf("Parse(%.20q… %d bytes) = %.200v; want an error saying the selector nests too deep", tc.in, len(tc.in), err)
			continue
		}
		if len(err.Error()) > 400 {
			t.Errorf("the error quotes the whole %d-byte selector: %d bytes", len(tc.in), len(err.Error()))
		}
		if pe.Pos < 0 || pe.Pos+1 > tc.maxCol {
			t.Errorf("Parse(%.20q…): the error points at column %d, past where the nesting goes too deep (%d)", tc.in, pe.Pos+1, tc.maxCol)
		}
	}
	for _, in := range []string{nest("(", "has(a)", ")", MaxDepth), nest("!(", "has(a)", ")", MaxDepth-1)} {
		sel, err := Parse(in)
		if err != nil {
			t.Errorf("Parse of a selector nested %d deep: %.200v", MaxDepth, err)
			continue
		}
		if again, err := Parse(sel.String()); err != nil || !Equal(again.Root, sel.Root) {
			t.Errorf("the canonical form of a selector nested %d deep does not parse back: %.200v", MaxDepth, err)
		}
	}
}
