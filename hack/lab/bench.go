package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

// cmdBench measures the lab itself: time from Up to "Calico and workloads ready", each step, and
// the resident memory of the control plane. It is a benchmark, not a test: it asserts nothing.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 3, "nodes (1 server, the rest agents)")
	pods := fs.Int("pods", 0, "extra pods (namespace load, Deployments of 50) on top of the workloads")
	noHosts := fs.Bool("no-hosts", false, "no SSH node hosts")
	unlimited := fs.Bool("unlimited-qps", false, "lift the control plane's client rate limits")
	calico := fs.String("calico", "manifest", "Calico flavour")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := lab.Defaults()
	cfg.Name = "bench"
	cfg.Servers, cfg.Agents = 1, *nodes-1
	cfg.Hosts, cfg.ExtraPods, cfg.UnlimitedQPS, cfg.Calico = !*noHosts, *pods, *unlimited, lab.Calico(*calico)
	cfg.ReadyTimeout = 10 * time.Minute
	cfg.Progress = stderr
	start := time.Now()
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		return err
	}
	upTime := time.Since(start)
	rss, rssErr := l.ControlPlaneRSS()
	downStart := time.Now()
	downErr := l.Down(context.WithoutCancel(ctx))
	downTime := time.Since(downStart)

	fmt.Fprintf(stdout, "lab bench: %d nodes (hosts %v), calico %s, %d extra pods, unlimited QPS %v; %d CPU cores (%s/%s)\n",
		*nodes, cfg.Hosts, cfg.Calico, *pods, *unlimited, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "up → Calico and workloads ready\t%s\n", upTime.Round(10*time.Millisecond))
	for _, t := range l.Timings() {
		mark := ""
		if t.Alongside {
			mark = "  (side by side with others)"
		}
		fmt.Fprintf(tw, "  %s\t%s%s\n", t.Step, t.Duration.Round(10*time.Millisecond), mark)
	}
	fmt.Fprintf(tw, "down\t%s\n", downTime.Round(10*time.Millisecond))
	sort.Slice(rss, func(i, j int) bool { return rss[i].Bytes > rss[j].Bytes })
	var total uint64
	for _, p := range rss {
		total += p.Bytes
		fmt.Fprintf(tw, "  RSS %s\t%d MiB\n", p.Name, p.Bytes>>20)
	}
	fmt.Fprintf(tw, "control-plane RSS (sum, when ready)\t%d MiB\n", total>>20)
	if err := tw.Flush(); err != nil {
		return err
	}
	if rssErr != nil {
		return rssErr
	}
	return downErr
}
