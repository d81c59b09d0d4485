// Package selector parses Calico's label-selector language and translates it to Kubernetes-style
// label selectors (the form Cilium's endpoint selectors take).
//
// The grammar, tokens and error cases follow libcalico-go/lib/selector (tokenizer and parser) of
// Calico v3.28:
//
//	all()  global()  has(k)  k == 'v'  k != 'v'  k in {'a', 'b'}  k not in {...}
//	k contains 's'  k starts with 's'  k ends with 's'  !e  e && e  e || e  (e)
//
// Strings are quoted with ' or " and have no escapes (a string ends at the next matching quote).
// Label keys match [a-zA-Z0-9_./-]{1,512}. Whitespace is space or tab. "!" binds tighter than
// "&&", which binds tighter than "||"; a run of leading "!" applies to one operation. The empty
// selector is all(). "!=" and "not in" also match when the key is absent.
//
// Translation (ToDNF) pushes negation down to the literals (De Morgan), rewrites the literals as
// In / NotIn / Exists / DoesNotExist requirements, expands to disjunctive normal form and
// normalises every conjunction: contradictory conjunctions are dropped (with a note), redundant ones
// are removed, and alternatives that differ only in the value of one key are merged into one In.
// Each remaining conjunction is one label selector; the selector matches when any of them does.
// Kubernetes' NotIn (and !=) match absent keys too, exactly like Calico's != and "not in".
// contains, starts with, ends with and global() have no equivalent: they fail with an
// *UntranslatableError naming the construct as written.
package selector
