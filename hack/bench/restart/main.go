// Command restart benchmarks pod_restart against the migration article's restart loop (and a careful
// operator's parallel shell) on the lab: identical state before every run, runs interleaved,
// medians printed with ratios. It asserts nothing.
//
//	go run ./hack/bench/restart                       # 10 namespaces × (20 Deployments + 2 StatefulSets) × 2 pods
//	go run ./hack/bench/restart -ns 50 -deploy 18 -nodes 100   # 1,000 workloads on 100 nodes
package main

import (
	"context"
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

	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

// podsPerNode is a kwok node's pod capacity (the kubelet default, 110), less room for DaemonSets.
const podsPerNode = 100

type options struct {
	shape
	nodes, runs, parallelism, shellParallelism int
	unlimitedQPS                               bool
	approaches                                 string
	module                                     string
	podStartDelay                              time.Duration // lab.Config.PodStartDelay (0: kwok's fast stages)
	manualRuns                                 int           // runs of the manual loop (slow); 0: -runs
	jsonPath                                   string        // also write the medians as JSON here
	labName                                    string
	load                                       string // /proc/loadavg when the runs began
}

func main() {
	var o options
	flag.IntVar(&o.namespaces, "ns", 10, "namespaces")
	flag.IntVar(&o.deployments, "deploy", 20, "Deployments per namespace")
	flag.IntVar(&o.statefulSets, "sts", 2, "StatefulSets per namespace")
	flag.IntVar(&o.replicas, "replicas", 2, "pods per workload")
	flag.IntVar(&o.minReady, "min-ready", 0, "minReadySeconds of the workloads (another way to make rollout steps take time; prefer -pod-start-delay)")
	flag.IntVar(&o.nodes, "nodes", 0, "lab nodes (1 server, the rest agents); 0: enough for the pods and the rollouts' surge")
	flag.IntVar(&o.runs, "runs", 3, "runs per approach (medians are printed)")
	flag.IntVar(&o.parallelism, "parallelism", 5, "pod_restart parallelism (its default is 5)")
	flag.IntVar(&o.shellParallelism, "shell-parallelism", 10, "xargs -P of the operator's shell; pod_restart also runs at this parallelism")
	flag.BoolVar(&o.unlimitedQPS, "unlimited-qps", false, "lift the lab's control-plane client rate limits")
	flag.StringVar(&o.approaches, "approaches", "manual,shell,pod_restart,pod_restart_p", "approaches to run (pod_restart_p: at -shell-parallelism)")
	flag.StringVar(&o.module, "module", "", "pod_restart binary (default: built from ./modules/pod_restart)")
	flag.DurationVar(&o.podStartDelay, "pod-start-delay", 0, "pods become Ready about this long after they are scheduled (kwok's general stages); 0: at once (fast stages)")
	flag.IntVar(&o.manualRuns, "manual-runs", 0, "runs of the manual loop, the slowest approach (0: -runs)")
	flag.StringVar(&o.labName, "lab-name", "bench-restart", "name of the lab this run brings up (distinct names let benchmarks run side by side)")
	flag.StringVar(&o.jsonPath, "json", "", "also write the results (medians and every run) as JSON to this file")
	flag.Parse()
	if o.nodes == 0 {
		o.nodes = max(3, (o.pods()*3/2+podsPerNode-1)/podsPerNode)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	dir, err := os.MkdirTemp("", "bench-restart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.module == "" {
		if o.module, err = buildModule(ctx, dir); err != nil {
			return err
		}
	}
	cfg := lab.Defaults()
	cfg.Name, cfg.Servers, cfg.Agents = o.labName, 1, o.nodes-1
	cfg.Hosts, cfg.Workloads, cfg.Calico, cfg.UnlimitedQPS = false, false, lab.CalicoNone, o.unlimitedQPS
	cfg.ReadyTimeout, cfg.Progress, cfg.PodStartDelay = 10*time.Minute, stderr, o.podStartDelay
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if derr := l.Down(context.WithoutCancel(ctx)); derr != nil && err == nil {
			err = derr
		}
	}()
	kube := kubernetes.NewForConfigOrDie(l.RESTConfig())
	fmt.Fprintf(stderr, "bench: creating %d workloads (%d pods)\n", o.workloads(), o.pods())
	if err := o.create(ctx, kube); err != nil {
		return err
	}
	proxy, err := startProxy(l.RESTConfig())
	if err != nil {
		return err
	}
	defer proxy.close()
	kc, err := proxy.writeKubeconfig(dir)
	if err != nil {
		return err
	}
	o.load = loadAverage()
	r := &runner{dir: dir, kubeconfig: kc, kubectlDir: filepath.Dir(l.Tools().Kubectl), module: o.module, namespaces: o.names()}
	results, err := o.measureAll(ctx, r, kube, proxy, stderr)
	if err != nil {
		return err
	}
	o.print(stdout, results)
	if o.jsonPath != "" {
		return o.writeJSON(o.jsonPath, results)
	}
	return nil
}

// measureAll runs every approach o.runs times, rotating the order each round.
func (o options) measureAll(ctx context.Context, r *runner, kube kubernetes.Interface, proxy *countingProxy, log io.Writer) (map[string][]measure, error) {
	names := strings.Split(o.approaches, ",")
	results := map[string][]measure{}
	for round := range o.runs {
		for i := range names {
			name := names[(i+round)%len(names)]
			if round >= o.runsOf(name) {
				continue
			}
			if err := o.waitReady(ctx, kube); err != nil {
				return nil, err
			}
			before, err := apiRequests(ctx, kube)
			if err != nil {
				return nil, err
			}
			proxy.take()
			m, err := o.runOne(ctx, r, name)
			if err != nil {
				return nil, fmt.Errorf("%s, round %d: %w", name, round+1, err)
			}
			after, err := apiRequests(ctx, kube)
			if err != nil {
				return nil, err
			}
			m.toolReqs, m.verbs = proxy.take()
			m.apiReqs = after - before
			fmt.Fprintf(log, "bench: round %d %-14s %6.1fs wall %5.1fs CPU %4d MB %5d tool requests %v\n",
				round+1, name, m.wall.Seconds(), m.cpu.Seconds(), m.rssKB>>10, m.toolReqs, m.verbs)
			results[name] = append(results[name], m)
		}
	}
	return results, nil
}

func (o options) runOne(ctx context.Context, r *runner, name string) (measure, error) {
	switch name {
	case "manual":
		return r.manual(ctx)
	case "shell":
		return r.shell(ctx, o.shellParallelism)
	case "pod_restart":
		return r.podRestart(ctx, o.parallelism)
	case "pod_restart_p":
		return r.podRestart(ctx, o.shellParallelism)
	}
	return measure{}, fmt.Errorf("unknown approach %q", name)
}

func buildModule(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	out := filepath.Join(dir, "pod_restart")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./modules/pod_restart")
	cmd.Dir, cmd.Stderr = filepath.Dir(strings.TrimSpace(string(gomod))), os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build pod_restart: %w", err)
	}
	return out, nil
}

// loadAverage is the 1/5/15-minute load average: on a shared machine it says how much of the CPU the
// lab and the tools could have had.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
