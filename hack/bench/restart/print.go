package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

var describe = map[string]string{
	"manual":        "manual loop (restart + rollout status, one at a time)",
	"shell":         "operator's shell (restart per ns, rollout status xargs -P)",
	"pod_restart":   "pod_restart",
	"pod_restart_p": "pod_restart",
}

func (o options) parallelismOf(name string) string {
	switch name {
	case "manual":
		return "1"
	case "pod_restart":
		return fmt.Sprint(o.parallelism)
	}
	return fmt.Sprint(o.shellParallelism)
}

// print writes the table: medians per approach and ratios to pod_restart at its default parallelism.
func (o options) print(w io.Writer, results map[string][]measure) {
	qps := "default client rate limits (kube-controller-manager and kube-scheduler at 20 requests/s)"
	if o.unlimitedQPS {
		qps = "client rate limits lifted (kwokctl disableQPSLimits)"
	}
	fmt.Fprintf(w, "pod_restart benchmark: %d workloads (%d namespaces × %d Deployments + %d StatefulSets), %d pods\n",
		o.workloads(), o.namespaces, o.deployments, o.statefulSets, o.pods())
	fmt.Fprintf(w, "machine: %d CPU cores (%s/%s), load average %s when the runs began; lab: %d kwok nodes, %s, minReadySeconds %d, %s\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, o.load, o.nodes, o.stages(), o.minReady, qps)
	fmt.Fprintf(w, "medians of %d runs (manual loop: %d), interleaved; identical state before each run; strategy all (restart everything)\n\n", o.runs, o.runsOf("manual"))
	base := median(results["pod_restart"])
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "approach\tparallel\twall\ttool CPU\tpeak RSS\ttool requests\tAPI server requests\twall ÷ pod_restart\ttool requests ÷ pod_restart\t")
	for _, name := range strings.Split(o.approaches, ",") {
		m := median(results[name])
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d MB\t%d\t%.0f\t%s\t%s\t\n", describe[name], o.parallelismOf(name),
			m.wall.Round(100*time.Millisecond), m.cpu.Round(100*time.Millisecond), m.rssKB>>10, m.toolReqs, m.apiReqs,
			ratio(m.wall.Seconds(), base.wall.Seconds()), ratio(float64(m.toolReqs), float64(base.toolReqs)))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\ntool requests: counted by a proxy between the tool and the API server (the tool's own requests);")
	fmt.Fprintln(w, "API server requests: apiserver_request_total before/after (includes the controllers' work the run caused).")
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f×", a/b)
}

// median returns, per field, the median of the runs.
func median(ms []measure) measure {
	if len(ms) == 0 {
		return measure{}
	}
	n := len(ms)
	walls, cpu, rss, tree, tool, api := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, m := range ms {
		walls[i], cpu[i], rss[i], tree[i] = m.wall.Seconds(), m.cpu.Seconds(), float64(m.rssKB), float64(m.treeKB)
		tool[i], api[i] = float64(m.toolReqs), m.apiReqs
	}
	return measure{
		wall: seconds(med(walls)), cpu: seconds(med(cpu)), rssKB: int64(med(rss)), treeKB: int64(med(tree)),
		toolReqs: int(med(tool)), apiReqs: med(api),
	}
}

func med(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
