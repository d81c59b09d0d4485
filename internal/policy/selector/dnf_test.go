package selector

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
)

func TestToDNF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sel   string
		want  []string // Term.String() of each alternative
		notes int
	}{
		{`a == 'x'`, []string{"a in (x)"}, 0},
		{`a != 'x'`, []string{"a notin (x)"}, 0},
		{`!(a == 'x')`, []string{"a notin (x)"}, 0},
		{`!(a != 'x')`, []string{"a in (x)"}, 0},
		{`has(a)`, []string{"a"}, 0},
		{`!has(a)`, []string{"!a"}, 0},
		{`a in {'y', 'x'}`, []string{"a in (x,y)"}, 0},
		{`!(a in {'x','y'})`, []string{"a notin (x,y)"}, 0},
		{`a not in {'x'}`, []string{"a notin (x)"}, 0},
		{`!(a not in {'x'})`, []string{"a in (x)"}, 0},
		{`a == 'x' || a == 'y'`, []string{"a in (x,y)"}, 0},
		{`a == 'x' || b == 'y'`, []string{"a in (x)", "b in (y)"}, 0},
		{`(a == 'x' || a == 'y') && b == 'z'`, []string{"a in (x,y),b in (z)"}, 0},
		{`a == 'x' && a == 'y'`, nil, 1},
		{`has(a) && !has(a)`, nil, 1},
		{`a == 'x' && !(a == 'x')`, nil, 1},
		{`a in {'x','y'} && a != 'x'`, []string{"a in (y)"}, 0},
		{`has(a) && a not in {'x'}`, []string{"a,a notin (x)"}, 0},
		{`!has(a) && a != 'x'`, []string{"!a"}, 0},
		{`all()`, []string{""}, 0},
		{``, []string{""}, 0},
		{`!all()`, nil, 0},
		{`a == 'x' || all()`, []string{""}, 0},
		{`a == 'x' || (a == 'x' && b == 'y')`, []string{"a in (x)"}, 0},
		{`a == 'x' || a == 'x'`, []string{"a in (x)"}, 0},
		{`!(a == 'x' || b == 'y')`, []string{"a notin (x),b notin (y)"}, 0},
		{`!(a == 'x' && b == 'y')`, []string{"a notin (x)", "b notin (y)"}, 0},
		{`a in {}`, nil, 0},
		{`a not in {}`, []string{""}, 0},
		{`(a == 'x' && b == 'y') || (a == 'x' && b == 'z') || c == 'w'`, []string{"a in (x),b in (y,z)", "c in (w)"}, 0},
		{`(a == 'x' || b == 'x') && (a == 'y' || b == 'y')`, []string{"a in (x),b in (y)", "a in (y),b in (x)"}, 2},
	}
	for _, tc := range tests {
		d, notes, err := MustParse(tc.sel).ToDNF(Identity, 64)
		if err != nil {
			t.Errorf("ToDNF(%q): %v", tc.sel, err)
			continue
		}
		got := make([]string, len(d))
		for i, term := range d {
			got[i] = term.String()
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ToDNF(%q) = %q, want %q", tc.sel, got, tc.want)
		}
		if len(notes) != tc.notes {
			t.Errorf("ToDNF(%q) notes = %q, want %d", tc.sel, notes, tc.notes)
		}
	}
}

func TestToDNFUntranslatable(t *testing.T) {
	t.Parallel()
	tests := []struct{ sel, construct, reason string }{
		{`a contains 'x'`, `a contains 'x'`, `"contains"`},
		{`b == 'y' && !(a starts with 'x')`, `!(a starts with 'x')`, `"starts with"`},
		{`b == 'y' || a ends with "z"`, `a ends with "z"`, `"ends with"`},
		{`global()`, `global()`, "non-namespaced"},
		{`a == 'x y'`, `a == 'x y'`, "not a valid Kubernetes label value"},
		{`a/b/c == 'x'`, `a/b/c == 'x'`, "not a valid Kubernetes label key"},
	}
	for _, tc := range tests {
		_, _, err := MustParse(tc.sel).ToDNF(Identity, 64)
		var ue *UntranslatableError
		if !errors.As(err, &ue) {
			t.Errorf("ToDNF(%q) = %v, want an *UntranslatableError", tc.sel, err)
			continue
		}
		if ue.Construct != tc.construct || !strings.Contains(ue.Reason, tc.reason) {
			t.Errorf("ToDNF(%q) = construct %q reason %q, want %q and a reason mentioning %s", tc.sel, ue.Construct, ue.Reason, tc.construct, tc.reason)
		}
	}
}

func TestToDNFLimit(t *testing.T) {
	t.Parallel()
	var parts []string
	for i := range 8 {
		parts = append(parts, fmt.Sprintf("(k%d == 'x' || j%d == 'y')", i, i))
	}
	_, _, err := MustParse(strings.Join(parts, " && ")).ToDNF(Identity, 64)
	if err == nil || !strings.Contains(err.Error(), "more than 64") {
		t.Errorf("a 256-way expansion should fail with the limit, got %v", err)
	}
}

// matchesAny evaluates a DNF the way Kubernetes (and Cilium) evaluate label selectors.
func matchesAny(t *testing.T, d DNF, l map[string]string) bool {
	t.Helper()
	for _, ls := range d.LabelSelectors() {
		s, err := metav1.LabelSelectorAsSelector(&ls)
		if err != nil {
			t.Fatalf("label selector %v is invalid: %v", ls, err)
		}
		if s.Matches(k8slabels.Set(l)) {
			return true
		}
	}
	return false
}

// labelMatrix is every assignment of keys to "absent" or one of values.
func labelMatrix(keys, values []string) []map[string]string {
	out := []map[string]string{{}}
	for _, k := range keys {
		var next []map[string]string
		for _, l := range out {
			next = append(next, l)
			for _, v := range values {
				m := map[string]string{k: v}
				for kk, vv := range l {
					m[kk] = vv
				}
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}

// assertSameMatches requires the Calico selector and its translation to agree on every label set.
func assertSameMatches(t *testing.T, sel *Selector, d DNF, matrix []map[string]string) {
	t.Helper()
	for _, l := range matrix {
		if want, got := sel.Evaluate(l), matchesAny(t, d, l); want != got {
			t.Errorf("%s: Calico says %v, the label selectors %v say %v for labels %v", sel.Source, want, d.LabelSelectors(), got, l)
			return
		}
	}
}

func TestTranslationMatchesLikeCalico(t *testing.T) {
	t.Parallel()
	matrix := labelMatrix([]string{"a", "b", "c"}, []string{"x", "y", "z"})
	fixed := []string{
		`a == 'x'`, `a != 'x'`, `has(a)`, `!has(a)`, `a in {'x','y'}`, `a not in {'x','y'}`,
		`a == 'x' && b != 'y'`, `a == 'x' || b != 'y'`, `!(a == 'x' || b in {'y','z'})`,
		`!(has(a) && b not in {'x'}) || c == 'z'`, `(a == 'x' || b == 'x') && (a == 'y' || c == 'y')`,
		`a != 'x' && a != 'y' && a != 'z'`, `!(a != 'x' || !has(b))`, `all()`, `!all() || a == 'z'`,
	}
	for _, s := range fixed {
		sel := MustParse(s)
		d, _, err := sel.ToDNF(Identity, 64)
		if err != nil {
			t.Fatalf("ToDNF(%q): %v", s, err)
		}
		assertSameMatches(t, sel, d, matrix)
	}
	rng := rand.New(rand.NewPCG(9, 2026))
	for range 400 {
		s := randomSelector(rng, 3)
		sel, err := Parse(s)
		if err != nil {
			t.Fatalf("generated selector %q does not parse: %v", s, err)
		}
		d, _, err := sel.ToDNF(Identity, 256)
		if err != nil {
			t.Fatalf("ToDNF(%q): %v", s, err)
		}
		assertSameMatches(t, sel, d, matrix)
	}
}

// randomSelector builds a translatable selector over keys a, b, c and values x, y, z.
func randomSelector(rng *rand.Rand, depth int) string {
	keys, vals := []string{"a", "b", "c"}, []string{"x", "y", "z"}
	k, v := keys[rng.IntN(3)], vals[rng.IntN(3)]
	if depth > 0 && rng.IntN(3) > 0 {
		l, r := randomSelector(rng, depth-1), randomSelector(rng, depth-1)
		switch rng.IntN(3) {
		case 0:
			return "(" + l + " && " + r + ")"
		case 1:
			return l + " || " + r
		default:
			return "!(" + l + ")"
		}
	}
	switch rng.IntN(7) {
	case 0:
		return k + " == '" + v + "'"
	case 1:
		return k + ` != "` + v + `"`
	case 2:
		return "has(" + k + ")"
	case 3:
		return "!has(" + k + ")"
	case 4:
		return k + " in {'" + v + "', 'y'}"
	case 5:
		return k + " not in {'" + v + "'}"
	}
	return "all()"
}
