// Command lab starts, inspects and stops the cnimigrate lab: a K3s-shaped cluster (real control
// plane, kwok nodes, SSH node hosts) running Calico and the migration article's ML workloads.
//
//	lab up     [--name N] [--servers 1] [--agents 2] [--calico manifest|operator|none]
//	           [--no-workloads] [--no-hosts] [--workdir DIR] [--tools-dir DIR] [--port P] [--foreground]
//	lab status [--name N | --workdir DIR]
//	lab down   [--name N | --workdir DIR | --all | --stale]   (idempotent, like rm -f)
//	lab bench  [--nodes 3] [--pods 0] [--no-hosts] [--unlimited-qps]
//
// `up` starts a keeper process that owns the lab (the node hosts live as long as it does) and
// returns once everything is ready; `down` stops it and removes everything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "lab: %v\n", err)
		}
		os.Exit(1)
	}
}

// run dispatches a subcommand. Progress goes to stderr, summaries to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("missing subcommand")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "up":
		return cmdUp(ctx, rest, stdout, stderr)
	case "keep": // internal: the keeper process `up` starts
		return cmdKeep(ctx, rest, stderr)
	case "down":
		return cmdDown(ctx, rest, stderr)
	case "status":
		return cmdStatus(ctx, rest, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown subcommand %q", cmd)
}

const usage = `usage: lab <up|status|down|bench> [flags]   (lab <subcommand> -h for its flags)

  up      start a lab and wait until nodes, Calico and workloads are ready; print a summary
  status  print what a running lab holds
  down    remove a lab: processes, network namespaces, links, mounts, work dir (idempotent)
  bench   time lab start-up and measure control-plane memory`
