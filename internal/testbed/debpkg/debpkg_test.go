package debpkg

import (
	"context"
	"slices"
	"testing"
)

func TestMissing(t *testing.T) {
	need := Need{
		"sh":                           "dash",
		"/bin/sh":                      "dash",
		"no-such-command-cnimigrate":   "pkg-b",
		"/nonexistent/cnimigrate/tool": "pkg-a",
		"also-missing-cnimigrate":      "pkg-b",
	}
	if got, want := Missing(need), []string{"pkg-a", "pkg-b"}; !slices.Equal(got, want) {
		t.Errorf("Missing = %v, want %v", got, want)
	}
}

func TestEnsureNothingMissing(t *testing.T) {
	if err := Ensure(context.Background(), Need{"sh": "dash"}); err != nil {
		t.Errorf("Ensure with every command present must not touch apt: %v", err)
	}
}
