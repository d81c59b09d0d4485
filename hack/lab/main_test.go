package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Bad input must fail before anything is started, with a message naming the problem.
func TestBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing subcommand"},
		{[]string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"up", "--servers", "0", "--agents", "0", "--no-hosts"}, "no nodes"},
		{[]string{"up", "--agents", "300", "--no-hosts"}, "more than the lab supports"},
		{[]string{"up", "--calico", "flannel", "--no-hosts"}, `calico "flannel"`},
		{[]string{"up", "--name", "Not_Valid", "--no-hosts"}, "name"},
		{[]string{"up", "extra", "--no-hosts"}, "unexpected arguments"},
		{[]string{"down", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error containing %q, got %v (stderr %s)", tt.want, err, errOut.String())
			}
		})
	}
}

func TestDownOfMissingLabSucceeds(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"down", "--workdir", t.TempDir() + "/none"}, nil, &errOut); err != nil {
		t.Fatalf("down of a missing lab must succeed like rm -f: %v", err)
	}
	if !strings.Contains(errOut.String(), "nothing to remove") {
		t.Errorf("stderr %q", errOut.String())
	}
}
