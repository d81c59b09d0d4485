package selector

import "fmt"

// ParseError is a syntax error: what was expected and where (a byte offset into the input).
type ParseError struct {
	Input string
	Pos   int // 0-based byte offset
	Msg   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("selector %q: %s at column %d", e.Input, e.Msg, e.Pos+1)
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
