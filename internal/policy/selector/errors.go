package selector

import (
	"fmt"
	"unicode/utf8"
)

// ParseError is a syntax error: what was expected and where (a byte offset into the input).
type ParseError struct {
	Input string
	Pos   int // 0-based byte offset
	Msg   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("selector %s: %s at column %d", quoteShort(e.Input), e.Msg, e.Pos+1)
}

// maxQuoted is how much of a selector an error message quotes: a long one is cut, with its length.
const maxQuoted = 120

func quoteShort(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

func errAt(input string, pos int, format string, args ...any) *ParseError {
	return &ParseError{Input: input, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// UntranslatableError says which construct of a selector has no label-selector equivalent.
type UntranslatableError struct {
	Construct string // the construct as written in the selector
	Reason    string
}

func (e *UntranslatableError) Error() string {
	return fmt.Sprintf("%s: %s", e.Construct, e.Reason)
}
