package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

// readyLine is what the keeper prints on stderr once its lab is ready.
const readyLine = "lab-keeper: ready"

// labFlags registers the flags that describe a lab.
func labFlags(fs *flag.FlagSet) func() (lab.Config, error) {
	d := lab.Defaults()
	name := fs.String("name", d.Name, "lab name (names its processes, node hosts and work dir)")
	servers := fs.Int("servers", d.Servers, "K3s server nodes (at least 1)")
	agents := fs.Int("agents", d.Agents, "K3s agent nodes")
	calico := fs.String("calico", string(d.Calico), "Calico flavour: manifest, operator or none")
	noWorkloads := fs.Bool("no-workloads", false, "do not deploy the ML-platform workloads")
	noHosts := fs.Bool("no-hosts", false, "do not start SSH node hosts (no root needed)")
	workDir := fs.String("workdir", "", "work dir (default $XDG_STATE_HOME/cnimigrate/lab/<name>, i.e. ~/.local/state/...)")
	toolsDir := fs.String("tools-dir", "", "dir with the lab binaries (default: the hack/tools.sh cache)")
	port := fs.Int("port", 0, "kube-apiserver port (default: a free one)")
	timeout := fs.Duration("timeout", 3*time.Minute, "bound on each readiness wait")
	return func() (lab.Config, error) {
		if fs.NArg() > 0 {
			return lab.Config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		c := lab.Config{Name: *name, Servers: *servers, Agents: *agents, Calico: lab.Calico(*calico),
			Workloads: !*noWorkloads, Hosts: !*noHosts, WorkDir: *workDir, ToolsDir: *toolsDir,
			APIServerPort: *port, ReadyTimeout: *timeout}
		if c.WorkDir == "" {
			c.WorkDir = lab.DefaultWorkDir(c.Name)
		}
		return c, nil
	}
}

func cmdUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	foreground := fs.Bool("foreground", false, "run the lab in this process until interrupted (no keeper)")
	config := labFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Hosts && os.Geteuid() != 0 {
		return errors.New("node hosts need root (network namespaces, sshd): run as root or pass --no-hosts")
	}
	fmt.Fprintf(stderr, "lab %s: work dir %s\n", cfg.Name, cfg.WorkDir)
	if *foreground {
		cfg.Progress = stderr
		return runForeground(ctx, cfg, stdout, stderr)
	}
	if err := startKeeper(ctx, args, stderr); err != nil {
		return err
	}
	l, err := lab.Attach(ctx, cfg.WorkDir)
	if err != nil {
		return err
	}
	if err := l.WriteSummary(ctx, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Bring it down with: go run ./hack/lab down --name %s\n", cfg.Name)
	return nil
}

// runForeground brings the lab up in this process and holds it until ctx ends.
func runForeground(ctx context.Context, cfg lab.Config, stdout, stderr io.Writer) error {
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := l.Down(dctx); err != nil {
			fmt.Fprintf(stderr, "lab %s: down: %v\n", cfg.Name, err)
		}
	}()
	if err := l.WriteSummary(ctx, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "lab %s: running in the foreground; Ctrl-C brings it down\n", cfg.Name)
	<-ctx.Done()
	return nil
}

// startKeeper starts `lab keep` (same flags) in its own session, relays its progress until it is
// ready, and returns. If this process is interrupted first, the keeper is stopped (and cleans up).
func startKeeper(ctx context.Context, args []string, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	cmd := exec.Command(self, append([]string{"keep"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start keeper: %w", err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if sc.Text() == readyLine {
				ready <- true
				return
			}
			fmt.Fprintln(stderr, sc.Text())
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if ok {
			return nil
		}
		err := cmd.Wait()
		return fmt.Errorf("the lab did not start (keeper exited: %v); nothing is left behind", err)
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		return fmt.Errorf("interrupted: %w; the lab was removed", ctx.Err())
	}
}

// cmdKeep is the keeper: it brings the lab up (progress on stderr), says readyLine, moves its
// stderr to keeper.log in the work dir, and holds the lab until SIGTERM/SIGINT, then removes it.
func cmdKeep(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("keep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("foreground", false, "")
	config := labFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config()
	if err != nil {
		return err
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	out := &switchWriter{w: stderr}
	cfg.Progress, cfg.Keeper = out, true
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(cfg.WorkDir, "keeper.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err == nil {
		fmt.Fprintln(stderr, readyLine)
		out.w = logf
		_ = syscall.Dup3(int(logf.Fd()), 2, 0) // the parent stops reading: never write to its pipe again
	}
	<-ctx.Done()
	fmt.Fprintf(out, "lab %s: stopping (%v)\n", cfg.Name, strings.TrimSpace(fmt.Sprint(context.Cause(ctx))))
	dctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return l.Down(dctx)
}

// switchWriter writes to w, which the keeper swaps once its parent has gone.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }
