package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

func cmdDown(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", lab.Defaults().Name, "lab name")
	workDir := fs.String("workdir", "", "the lab's work dir (default from --name)")
	all := fs.Bool("all", false, "remove every lab under "+lab.StateRoot())
	stale := fs.Bool("stale", false, "remove the labs whose owner process is gone (crashed starts and tests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *all || *stale {
		var match func(*lab.State) bool
		if *stale {
			match = lab.Stale
		}
		var removed []string
		var errs []error
		for _, root := range []string{lab.StateRoot(), lab.StateRoot() + "/test"} {
			r, err := lab.Sweep(ctx, root, match)
			removed, errs = append(removed, r...), append(errs, err)
		}
		fmt.Fprintf(stderr, "lab: removed %d lab(s) %s\n", len(removed), strings.Join(removed, " "))
		return errors.Join(errs...)
	}
	dir := *workDir
	if dir == "" {
		dir = lab.DefaultWorkDir(*name)
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		fmt.Fprintf(stderr, "lab: no lab in %s: nothing to remove\n", dir)
		return nil
	}
	fmt.Fprintf(stderr, "lab: removing the lab in %s\n", dir)
	if err := lab.DownDir(ctx, dir); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "lab: removed (nothing left: processes, node hosts, work dir)")
	return nil
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", lab.Defaults().Name, "lab name")
	workDir := fs.String("workdir", "", "the lab's work dir (default from --name)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := *workDir
	if dir == "" {
		dir = lab.DefaultWorkDir(*name)
	}
	st, err := lab.ReadState(dir)
	if err != nil {
		return fmt.Errorf("no lab in %s: %w", dir, err)
	}
	fmt.Fprintf(stderr, "lab %s: phase %s, owner pid %d, created %s\n", st.Name, st.Phase, st.OwnerPID, st.Created.Format("2006-01-02 15:04:05 MST"))
	if lab.Stale(st) {
		return fmt.Errorf("lab %s: its owner process %d is gone; remove the rest with: lab down --name %s", st.Name, st.OwnerPID, st.Name)
	}
	l, err := lab.Attach(ctx, dir)
	if err != nil {
		return err
	}
	return l.WriteSummary(ctx, stdout)
}
