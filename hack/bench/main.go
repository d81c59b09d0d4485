// Command bench measures cnimigrate against its anchors on the local lab and prints one comparison
// table (Markdown), also written to reports/bench.md. `make bench` runs it through hack/bench.sh.
//
//	go run ./hack/bench [-runs 3 | -quick] [-restart-runs 1] [-large] [-full] [-pod-start 2s]
//	                    [-sections lab,restart,cilium,migration]
//
// Sections: lab start-up, pod_restart against the article's manual loop and an operator's shell
// (through hack/bench/restart), cilium_install against kubernetes.core.helm, and
// the migration playbook with per-phase times and per-task SSH overhead. Every figure is
// measured in this run; what could not be measured says why. Progress goes to stderr.
//
// Duration: the restart section dominates. Each of its runs restarts 440 pods that take seconds to
// start, and the article's manual loop alone takes ~220 × (2 pod start-ups + ~1 s), about 18 min
// at -pod-start 2s; so that section runs each approach -restart-runs times (default 1), the manual
// loop -manual-runs times (default 1), and the rest -runs times. The two migrations take ~5 and
// ~10 min; one -quick run took 61 min on a 2-core machine busy with other labs. -sections picks
// a subset.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The sections, in the order the table shows them.
const (
	secLab       = "1. Lab start-up"
	secRestart   = "2. Restarting 220 workloads"
	secCilium    = "3. Installing Cilium"
	secMigration = "4. Full migration over SSH"
)

type options struct {
	runs, manualRuns int
	restartRuns      int
	migrations       string   // comma-separated migration keys to run ("" = all)
	load             []string // 1-minute load average when each section started
	quick            bool
	large, full      bool
	podStart         time.Duration
	sections         map[string]bool
	repo, library    string
	helm             string
	out              string
	tmp              string
	log              io.Writer
}

func main() {
	o := options{log: os.Stderr}
	var sections string
	flag.IntVar(&o.runs, "runs", 3, "runs per measurement (medians are printed)")
	flag.IntVar(&o.restartRuns, "restart-runs", 1, "runs of each parallel approach in the restart section (each restarts 440 pods: minutes; -full: -runs)")
	flag.IntVar(&o.manualRuns, "manual-runs", 1, "runs of the article's manual restart loop (~220 × (2 pod start-ups + ~1 s): about 18 min at -pod-start 2s)")
	flag.BoolVar(&o.quick, "quick", false, "one run of everything (-runs 1)")
	flag.BoolVar(&o.large, "large", false, "also bring up a 100-node lab with ~2,000 pods")
	flag.BoolVar(&o.full, "full", false, "also run the manual loop with lifted QPS limits and pod_restart at its default parallelism (5)")
	flag.DurationVar(&o.podStart, "pod-start", 2*time.Second, "pod start-up time in the restart benchmark (kwok general stages; each pod Ready after 50–150% of it)")
	flag.StringVar(&sections, "sections", "lab,restart,cilium,migration", "sections to run")
	flag.StringVar(&o.library, "library", "library", "directory of the built modules (make build)")
	flag.StringVar(&o.helm, "helm", "", "helm CLI for kubernetes.core.helm (default: hack/tools/helm/build.sh --check)")
	flag.StringVar(&o.out, "out", "reports/bench.md", "also write the table here")
	flag.StringVar(&o.migrations, "migrations", "", "migrations to run, by key: replace, live, repl100 and live100 (-large); default: all of them")
	flag.Parse()
	if o.full {
		o.restartRuns = max(o.restartRuns, o.runs)
	}
	if o.quick {
		o.runs, o.restartRuns = 1, 1
	}
	o.manualRuns = max(1, min(o.manualRuns, o.restartRuns))
	o.sections = map[string]bool{}
	for _, s := range strings.Split(sections, ",") {
		o.sections[strings.TrimSpace(s)] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options) error {
	if o.runs < 1 || o.restartRuns < 1 {
		return fmt.Errorf("-runs %d, -restart-runs %d: want at least 1", o.runs, o.restartRuns)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the lab's node hosts need root (network namespaces, sshd): run as root")
	}
	var err error
	if o.repo, err = repoRoot(); err != nil {
		return err
	}
	o.library = absTo(o.repo, o.library)
	o.out = absTo(o.repo, o.out)
	if o.tmp, err = os.MkdirTemp("", "cnimigrate-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(o.tmp)
	start := time.Now()
	t := newTable(secLab, secRestart, secCilium, secMigration)
	steps := []struct {
		name, section string
		run           func(context.Context, *options, *table) error
	}{
		{"lab", secLab, benchLab},
		{"cilium", secCilium, benchCilium},
		{"migration", secMigration, benchMigration},
		{"restart", secRestart, benchRestart}, // the longest: last, so the others are in the report early
	}
	for _, s := range steps {
		if !o.sections[s.name] {
			continue
		}
		o.load = append(o.load, fmt.Sprintf("%s %s", s.name, loadAverage()))
		o.progress("=== %s (load average %s)", s.section, loadAverage())
		if err := s.run(ctx, o, t); err != nil {
			t.fail(s.section, "(section stopped)", err)
			o.progress("%s: %v", s.section, err)
		}
		if ctx.Err() != nil {
			break
		}
		if err := o.write(t, time.Since(start), false); err != nil {
			return err
		}
	}
	if err := o.write(t, time.Since(start), true); err != nil {
		return err
	}
	return ctx.Err()
}

// write renders the table to reports/bench.md (after every section) and, at the end, to stdout.
func (o *options) write(t *table, elapsed time.Duration, final bool) error {
	var b bytes.Buffer
	t.markdown(&b, o.header(elapsed, final))
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, b.Bytes(), 0o644); err != nil {
		return err
	}
	if final {
		_, err := os.Stdout.Write(b.Bytes())
		o.progress("table written to %s (bench took %s)", o.out, elapsed.Round(time.Second))
		return err
	}
	return nil
}

func (o *options) progress(format string, args ...any) {
	fmt.Fprintf(o.log, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// prefixWriter prefixes every line written through it (progress of the labs and sub-benchmarks).
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i]); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "playbooks")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run from inside the cnimigrate checkout (no go.mod + playbooks/ above %s)", dir)
		}
	}
}

func absTo(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}
