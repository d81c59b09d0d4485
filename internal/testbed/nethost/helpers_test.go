package nethost_test

import (
	"context"
	osexec "os/exec"
)

// command runs argv and returns its combined output.
func command(ctx context.Context, argv ...string) (string, error) {
	out, err := osexec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	return string(out), err
}
