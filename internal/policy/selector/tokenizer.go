package selector

import (
	"regexp"
	"strings"
)

type tokenKind uint8

const (
	tokLabel tokenKind = iota + 1
	tokString
	tokLBrace
	tokRBrace
	tokComma
	tokEq
	tokNe
	tokIn
	tokNot
	tokNotIn
	tokContains
	tokStartsWith
	tokEndsWith
	tokAll
	tokHas
	tokLParen
	tokRParen
	tokAnd
	tokOr
	tokGlobal
	tokEOF
)

var tokenNames = map[tokenKind]string{
	tokLabel: "label", tokString: "string", tokLBrace: "'{'", tokRBrace: "'}'", tokComma: "','",
	tokEq: "'=='", tokNe: "'!='", tokIn: "'in'", tokNot: "'!'", tokNotIn: "'not in'",
	tokContains: "'contains'", tokStartsWith: "'starts with'", tokEndsWith: "'ends with'",
	tokAll: "'all()'", tokHas: "'has()'", tokLParen: "'('", tokRParen: "')'", tokAnd: "'&&'",
	tokOr: "'||'", tokGlobal: "'global()'", tokEOF: "end of selector",
}

func (k tokenKind) String() string { return tokenNames[k] }

// token is one lexeme with its byte span in the input.
type token struct {
	kind       tokenKind
	value      string // label name or string contents
	start, end int
}

// labelKey is Calico's LabelKeyMatcher.
const labelKey = `[a-zA-Z0-9_./-]{1,512}`

// The regular expressions are Calico's, anchored at the current position.
var (
	identifierRe = regexp.MustCompile(`^` + labelKey)
	containsRe   = regexp.MustCompile(`^contains`)
	startsWithRe = regexp.MustCompile(`^starts\s*with`)
	endsWithRe   = regexp.MustCompile(`^ends\s*with`)
	hasRe        = regexp.MustCompile(`^has\(\s*(` + labelKey + `)\s*\)`)
	allRe        = regexp.MustCompile(`^all\(\s*\)`)
	notInRe      = regexp.MustCompile(`^not\s*in\b`)
	inRe         = regexp.MustCompile(`^in\b`)
	globalRe     = regexp.MustCompile(`^global\(\s*\)`)
)

// operatorRes are tried, in Calico's order, right after a label.
var operatorRes = []struct {
	re   *regexp.Regexp
	kind tokenKind
}{
	{containsRe, tokContains}, {startsWithRe, tokStartsWith}, {endsWithRe, tokEndsWith},
	{notInRe, tokNotIn}, {inRe, tokIn},
}

var simpleTokens = map[byte]tokenKind{'(': tokLParen, ')': tokRParen, '{': tokLBrace, '}': tokRBrace, ',': tokComma}

// doubled are the two-character operators; '!' alone is also a token.
var doubled = map[byte]struct {
	second byte
	kind   tokenKind
	msg    string
}{
	'=': {'=', tokEq, "expected =="},
	'&': {'&', tokAnd, "expected &&"},
	'|': {'|', tokOr, "expected ||"},
	'!': {'=', tokNe, ""},
}

// tokenize splits input into tokens ending with tokEOF, as Calico's tokenizer does.
func tokenize(input string) ([]token, error) {
	var toks []token
	pos := 0
	for {
		for pos < len(input) && (input[pos] == ' ' || input[pos] == '\t') {
			pos++
		}
		if pos == len(input) {
			return append(toks, token{kind: tokEOF, start: pos, end: pos}), nil
		}
		last := tokenKind(0)
		if len(toks) > 0 {
			last = toks[len(toks)-1].kind
		}
		tok, err := next(input, pos, last)
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
		pos = tok.end
	}
}

// next reads the token starting at pos. last is the previous token's kind.
func next(input string, pos int, last tokenKind) (token, error) {
	rest := input[pos:]
	c := rest[0]
	if k, ok := simpleTokens[c]; ok {
		return token{kind: k, start: pos, end: pos + 1}, nil
	}
	if d, ok := doubled[c]; ok {
		if len(rest) > 1 && rest[1] == d.second {
			return token{kind: d.kind, start: pos, end: pos + 2}, nil
		}
		if c == '!' {
			return token{kind: tokNot, start: pos, end: pos + 1}, nil
		}
		return token{}, errAt(input, pos, "%s", d.msg)
	}
	if c == '"' || c == '\'' {
		i := strings.IndexByte(rest[1:], c)
		if i < 0 {
			return token{}, errAt(input, pos, "unterminated string")
		}
		return token{kind: tokString, value: rest[1 : 1+i], start: pos, end: pos + i + 2}, nil
	}
	if last == tokLabel {
		for _, op := range operatorRes {
			if loc := op.re.FindStringIndex(rest); loc != nil {
				return token{kind: op.kind, start: pos, end: pos + loc[1]}, nil
			}
		}
		return token{}, errAt(input, pos, "unexpected characters after a label, expected an operator")
	}
	if m := hasRe.FindStringSubmatchIndex(rest); m != nil {
		return token{kind: tokHas, value: rest[m[2]:m[3]], start: pos, end: pos + m[1]}, nil
	}
	if loc := allRe.FindStringIndex(rest); loc != nil {
		return token{kind: tokAll, start: pos, end: pos + loc[1]}, nil
	}
	if loc := globalRe.FindStringIndex(rest); loc != nil {
		return token{kind: tokGlobal, start: pos, end: pos + loc[1]}, nil
	}
	if loc := identifierRe.FindStringIndex(rest); loc != nil {
		return token{kind: tokLabel, value: rest[:loc[1]], start: pos, end: pos + loc[1]}, nil
	}
	return token{}, errAt(input, pos, "unexpected characters")
}
