package selector

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzParse: parsing never panics; what parses prints to a canonical form that parses back to the
// same tree and evaluates the same; what translates matches exactly what Calico matches.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `all()`, `global()`, `a == 'x'`, `a != "x"`, `has(a)`, `!has(a)`, `a in {'x', "y"}`,
		`a not in {}`, `a contains 'x'`, `a starts with 'x'`, `a endswith "x"`,
		`!(a == 'x' || b == 'y') && c in {'z'}`, `!!!has(a)`, `!(!has(a))`, `a == '"' || b == "'"`,
		`(a == 'x' && b == 'y') || (a == 'x' && b == 'z')`, `a notin{'x',}`, `(((a == 'x')))`,
		`projectcalico.org/namespace not in {'kube-system', 'calico-system'}`, `b == b`, `(`, `"x`,
		// Nesting at and past MaxDepth: refused with an error, never a stack overflow (kept a few KB
		// long so that mutating them stays fast; TestParseBoundsNesting tries 100000 levels).
		strings.Repeat("(", 10*MaxDepth), strings.Repeat("!", 10*MaxDepth),
		strings.Repeat("!(", 10*MaxDepth) + "has(a)" + strings.Repeat(")", 10*MaxDepth),
		strings.Repeat("(", MaxDepth) + "has(a)" + strings.Repeat(")", MaxDepth),
		strings.Repeat("(a == 'x' || !(", MaxDepth/2) + "has(b)" + strings.Repeat("))", MaxDepth/2),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		sel, err := Parse(input)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len(input) {
				t.Fatalf("Parse(%q) = %v: want a *ParseError with a position inside the input", input, err)
			}
			return
		}
		canon := sel.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, input, err)
		}
		if !Equal(sel.Root, again.Root) {
			t.Fatalf("canonical form %q of %q parses to a different tree %q", canon, input, again.String())
		}
		keys, values := literals(sel.Root)
		if len(keys) > 3 || len(values) > 3 {
			return // keep the matrix small
		}
		matrix := labelMatrix(keys, append(values, "zz-other"))
		for _, l := range matrix {
			if sel.Evaluate(l) != again.Evaluate(l) {
				t.Fatalf("%q and its canonical form %q disagree on %v", input, canon, l)
			}
		}
		d, _, err := sel.ToDNF(Identity, 64)
		if err == nil {
			assertSameMatches(t, sel, d, matrix)
		}
	})
}

// literals collects the label keys and values a tree mentions.
func literals(n Node) (keys, values []string) {
	add := func(list *[]string, s string) {
		if !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	var walk func(Node)
	walk = func(n Node) {
		switch x := n.(type) {
		case *Compare:
			add(&keys, x.Key)
			add(&values, x.Value)
		case *Has:
			add(&keys, x.Key)
		case *InSet:
			add(&keys, x.Key)
			for _, v := range x.Values {
				add(&values, v)
			}
		case *Not:
			walk(x.X)
		case *And:
			for _, y := range x.Xs {
				walk(y)
			}
		case *Or:
			for _, y := range x.Xs {
				walk(y)
			}
		}
	}
	walk(n)
	return keys, values
}
