package nethost

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// run executes argv and returns its stdout; a failure carries the command and its stderr.
func run(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// ip runs the ip(8) command.
func ip(ctx context.Context, args ...string) error {
	_, err := run(ctx, append([]string{"ip"}, args...)...)
	return err
}
