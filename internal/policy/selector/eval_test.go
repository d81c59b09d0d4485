package selector

import "testing"

type labels = map[string]string

// Cases from Calico's own parser tests, plus the absent-key semantics of != and not in.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sel            string
		match, noMatch []labels
	}{
		{`a == "b"`, []labels{{"a": "b"}, {"a": "b", "c": "d"}}, []labels{{}, {"a": "c"}, {"c": "d"}}},
		{`a == "b" && c == "d"`, []labels{{"a": "b", "c": "d"}}, []labels{{}, {"a": "b", "c": "e"}, {"c": "d"}, {"a": "b"}}},
		{`a == "b" || c == "d"`, []labels{{"a": "b", "c": "d"}, {"a": "b"}, {"c": "d"}}, []labels{{}, {"a": "e", "c": "e"}}},
		{`a in {"'", '"', "c"}`, []labels{{"a": "c"}, {"a": `"`}, {"a": `'`}}, []labels{{}, {"a": "e"}}},
		{`a not in {"'", '"', "c"}`, []labels{{}, {"a": "e"}}, []labels{{"a": "c"}, {"a": `"`}, {"a": `'`}}},
		{`a != "b"`, []labels{{"a": "a"}, {}}, []labels{{"a": "b"}}},
		{`a contains "a"`, []labels{{"a": "a"}, {"a": "bab"}}, []labels{{}, {"a": "b"}, {"b": "aaa"}}},
		{`a starts with "a"`, []labels{{"a": "a"}, {"a": "abb"}}, []labels{{}, {"a": "baa"}, {"b": "aaa"}}},
		{`a ends with "a"`, []labels{{"a": "a"}, {"a": "bba"}}, []labels{{}, {"a": "aab"}, {"b": "aaa"}}},
		{`!a in {"a"}`, []labels{{"a": "b"}, {}}, []labels{{"a": "a"}}},
		{`a in {}`, nil, []labels{{}, {"a": ""}}},
		{`a not in {}`, []labels{{}, {"a": ""}}, nil},
		{`has(a)`, []labels{{"a": ""}}, []labels{{"b": "a"}}},
		{`!has(a)`, []labels{{"b": "b"}}, []labels{{"a": "b"}}},
		{``, []labels{{}, {"a": "b"}}, nil},
		{`all()`, []labels{{}, {"a": "b"}}, nil},
		{`global()`, []labels{{}}, nil},
		{`!!!has(a)`, []labels{{}}, []labels{{"a": "b"}}},
		{`!(!has(a) || has(b))`, []labels{{"a": "a"}}, []labels{{}, {"a": "a", "b": ""}}},
		{`a != 'a1' || b != 'b1'`, []labels{{"a": "a1"}}, []labels{{"a": "a1", "b": "b1"}}},
		{`! a == 'a1' || ! b == 'b1'`, []labels{{}}, []labels{{"a": "a1", "b": "b1"}}},
		// || binds looser than &&: x || (y && z).
		{`a == 'x' || b == 'y' && c == 'z'`, []labels{{"a": "x"}, {"b": "y", "c": "z"}}, []labels{{"b": "y"}}},
		// ! binds tighter than &&: (!x) && y.
		{`!a == 'x' && b == 'y'`, []labels{{"b": "y"}}, []labels{{"a": "x", "b": "y"}, {}}},
	}
	for _, tc := range tests {
		sel := MustParse(tc.sel)
		for _, l := range tc.match {
			if !sel.Evaluate(l) {
				t.Errorf("%s should match %v", tc.sel, l)
			}
		}
		for _, l := range tc.noMatch {
			if sel.Evaluate(l) {
				t.Errorf("%s should not match %v", tc.sel, l)
			}
		}
	}
}
