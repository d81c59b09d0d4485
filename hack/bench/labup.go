package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

// upTargets are the lab's start-up targets: the anchors of the lab rows.
var upTargets = map[int]time.Duration{3: 15 * time.Second, 100: 2 * time.Minute}

// startLab brings up a lab of ours, first removing one a crashed bench run left under that name.
func (o *options) startLab(ctx context.Context, cfg lab.Config) (*lab.Lab, time.Duration, error) {
	dir := lab.DefaultWorkDir(cfg.Name)
	if st, err := lab.ReadState(dir); err == nil {
		if !lab.Stale(st) {
			return nil, 0, fmt.Errorf("lab %s is in use by process %d (another bench run?)", cfg.Name, st.OwnerPID)
		}
		o.progress("removing lab %s left behind by an earlier run", cfg.Name)
		if err := lab.DownDir(ctx, dir); err != nil {
			return nil, 0, err
		}
	} else if _, serr := os.Stat(dir); serr == nil {
		return nil, 0, fmt.Errorf("%s exists but holds no lab state: remove it", dir)
	}
	if dir := os.Getenv("CNIMIGRATE_TOOLS"); dir != "" && cfg.ToolsDir == "" {
		cfg.ToolsDir = dir // what hack/tools.sh --check printed
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 10 * time.Minute
	}
	cfg.Progress = &prefixWriter{w: o.log, prefix: "  "}
	start := time.Now()
	l, err := lab.Up(ctx, cfg)
	return l, time.Since(start), err
}

func (o *options) stopLab(l *lab.Lab) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := l.Down(ctx); err != nil {
		o.progress("lab %s down: %v", l.Name(), err)
	}
}

// upRun is one lab start-up.
type upRun struct {
	pods  int
	wall  time.Duration
	steps map[string]time.Duration
	rssKB map[string]float64
}

// benchLab times lab.Up to "Calico and workloads ready" (the default lab: 3 nodes, node hosts,
// calico.yaml, workloads) and the control plane's memory, like `hack/lab bench`; -large adds 100
// nodes with ~2,000 pods.
func benchLab(ctx context.Context, o *options, t *table) error {
	shapes := []labShape{{nodes: 3, runs: o.runs, hosts: true}}
	if o.large {
		// ~2,000 pods: calico-node on each node and the ML workloads, the rest in the "load"
		// namespace; with the 100 node hosts the 100-node migration uses.
		shapes = append(shapes, labShape{nodes: 100, extraPods: 2000 - 100 - 25, runs: 1, hosts: true})
	}
	for _, sh := range shapes {
		var runs []upRun
		for i := range sh.runs {
			o.progress("lab up: %d nodes, run %d/%d", sh.nodes, i+1, sh.runs)
			r, err := o.labUpOnce(ctx, sh)
			if err != nil {
				t.fail(secLab, fmt.Sprintf("up, %d nodes", sh.nodes), err)
				break
			}
			runs = append(runs, r)
		}
		if len(runs) > 0 {
			addLabRows(t, sh, runs)
		}
	}
	return nil
}

type labShape struct {
	nodes, extraPods, runs int
	hosts                  bool
}

func (o *options) labUpOnce(ctx context.Context, sh labShape) (upRun, error) {
	cfg := lab.Defaults()
	cfg.Name, cfg.Servers, cfg.Agents, cfg.ExtraPods = fmt.Sprintf("bench-up-%d", sh.nodes), 1, sh.nodes-1, sh.extraPods
	cfg.Hosts = sh.hosts
	l, wall, err := o.startLab(ctx, cfg)
	if err != nil {
		return upRun{}, err
	}
	defer o.stopLab(l)
	r := upRun{wall: wall, steps: map[string]time.Duration{}, rssKB: map[string]float64{}}
	for _, s := range l.Timings() {
		r.steps[s.Step] = s.Duration
	}
	procs, err := l.ControlPlaneRSS()
	if err != nil {
		return r, err
	}
	for _, p := range procs {
		r.rssKB[p.Name] += float64(p.Bytes) / 1024
	}
	pods, err := kubernetes.NewForConfigOrDie(l.RESTConfig()).CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return r, err
	}
	r.pods = len(pods.Items)
	o.progress("lab up: %d nodes ready in %s", sh.nodes, wall.Round(10*time.Millisecond))
	return r, nil
}

func addLabRows(t *table, sh labShape, runs []upRun) {
	walls := make([]float64, len(runs))
	var total []float64
	for i, r := range runs {
		walls[i] = r.wall.Seconds()
		sum := 0.0
		for _, kb := range r.rssKB {
			sum += kb
		}
		total = append(total, sum)
	}
	target := upTargets[sh.nodes].Seconds()
	shape := fmt.Sprintf("%d nodes, %d pods, ", sh.nodes, runs[0].pods)
	if sh.hosts {
		shape += "node hosts"
	} else {
		shape += "no node hosts"
	}
	w := median(walls)
	t.add(secLab, row{
		what: fmt.Sprintf("up → Calico and workloads ready (%s, calico.yaml)", shape),
		ours: secs(w), anchor: fmt.Sprintf("%s (target)", secs(target)), ratio: ratio(w, target),
		note: runsNote(len(runs)) + "; steps (several run side by side, so they add up to more): " + stepMedians(runs) + "; QPS limits default, fast stages",
	})
	t.add(secLab, row{
		what: fmt.Sprintf("control-plane RSS when ready (%s)", shape),
		ours: mib(median(total)), anchor: "—", ratio: "—",
		note: runsNote(len(runs)) + "; " + rssMedians(runs),
	})
}

func stepMedians(runs []upRun) string {
	var names []string
	for n := range runs[0].steps {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return stepMedian(runs, names[i]) > stepMedian(runs, names[j]) })
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %s", n, secs(stepMedian(runs, n))))
	}
	return strings.Join(parts, ", ")
}

func stepMedian(runs []upRun, name string) float64 {
	var xs []float64
	for _, r := range runs {
		xs = append(xs, r.steps[name].Seconds())
	}
	return median(xs)
}

func rssMedians(runs []upRun) string {
	names := map[string]bool{}
	for _, r := range runs {
		for n := range r.rssKB {
			names[n] = true
		}
	}
	type kv struct {
		name string
		kb   float64
	}
	var all []kv
	for n := range names {
		var xs []float64
		for _, r := range runs {
			xs = append(xs, r.rssKB[n])
		}
		all = append(all, kv{n, median(xs)})
	}
	slices.SortFunc(all, func(a, b kv) int { return int(b.kb - a.kb) })
	var parts []string
	for _, p := range all {
		parts = append(parts, fmt.Sprintf("%s %s", p.name, mib(p.kb)))
	}
	return strings.Join(parts, ", ")
}
