package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// restartReport is what hack/bench/restart -json writes (the pod_restart owner's benchmark; this
// program runs it and puts its medians in the table).
type restartReport struct {
	Workloads, Namespaces, Pods, Nodes int
	UnlimitedQPS                       bool   `json:"unlimited_qps"`
	Stages                             string `json:"stages"`
	Approaches                         []struct {
		Name         string    `json:"name"`
		Parallelism  string    `json:"parallelism"`
		Runs         int       `json:"runs"`
		WallSeconds  float64   `json:"wall_seconds"`
		CPUSeconds   float64   `json:"cpu_seconds"`
		PeakRSSKB    float64   `json:"peak_rss_kb"`
		PeakTreeKB   float64   `json:"peak_tree_rss_kb"`
		ToolRequests float64   `json:"tool_requests"`
		APIRequests  float64   `json:"api_requests"`
		AllWalls     []float64 `json:"all_wall_seconds"`
	} `json:"approaches"`
}

type restartSetting struct {
	label      string
	lifted     bool
	approaches []string
}

// benchRestart runs hack/bench/restart once per QPS setting: 10 namespaces × (20 Deployments + 2
// StatefulSets) × 2 pods, pod_restart (the built module, args file) against the article's manual loop and the
// operator's shell, identical state before every run.
func benchRestart(ctx context.Context, o *options, t *table) error {
	bin := filepath.Join(o.tmp, "bench-restart")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./hack/bench/restart")
	build.Dir, build.Stderr = o.repo, o.log
	if err := build.Run(); err != nil {
		return fmt.Errorf("build hack/bench/restart: %w", err)
	}
	module := filepath.Join(o.library, "pod_restart")
	if _, err := os.Stat(module); err != nil {
		return fmt.Errorf("module %s missing (make build): %w", module, err)
	}
	settings := []restartSetting{
		{"QPS limits default", false, []string{"manual", "shell", "pod_restart_p"}},
		{"QPS limits lifted", true, []string{"shell", "pod_restart_p"}},
	}
	if o.full {
		settings[0].approaches = append(settings[0].approaches, "pod_restart")
		settings[1].approaches = append([]string{"manual"}, append(settings[1].approaches, "pod_restart")...)
	}
	for i, s := range settings {
		o.progress("restart: %s (%s)", s.label, strings.Join(s.approaches, ", "))
		rep, err := o.runRestartBench(ctx, bin, module, s, i)
		if err != nil {
			t.fail(secRestart, "restart, "+s.label, err)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		addRestartRows(t, s, rep)
	}
	return nil
}

func (o *options) runRestartBench(ctx context.Context, bin, module string, s restartSetting, i int) (*restartReport, error) {
	jsonPath := filepath.Join(o.tmp, fmt.Sprintf("restart-%d.json", i))
	args := []string{
		"-ns", "10", "-deploy", "20", "-sts", "2", "-replicas", "2", "-shell-parallelism", "10",
		"-runs", fmt.Sprint(o.restartRuns), "-manual-runs", fmt.Sprint(o.manualRuns), "-pod-start-delay", o.podStart.String(),
		"-module", module, "-json", jsonPath, "-lab-name", fmt.Sprintf("bench-restart-%d", i),
		"-approaches", strings.Join(s.approaches, ","),
	}
	if s.lifted {
		args = append(args, "-unlimited-qps")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Dir = o.repo
	cmd.Stdout = io.MultiWriter(&out, &prefixWriter{w: o.log, prefix: "  | "})
	cmd.Stderr = &prefixWriter{w: o.log, prefix: "  "}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("hack/bench/restart %s: %w", strings.Join(args, " "), err)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	var rep restartReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("hack/bench/restart -json: %w", err)
	}
	return &rep, nil
}

var anchorNames = map[string]string{
	"manual": "manual loop (restart + rollout status per workload, sequential)",
	"shell":  "operator's shell (rollout restart of every workload of a namespace at once, then rollout status 10 at a time)",
}

// addRestartRows compares pod_restart at the shell's parallelism (10) — and with -full at its
// default (5) — with each anchor: wall time, peak memory, API requests.
func addRestartRows(t *table, s restartSetting, rep *restartReport) {
	byName := map[string]int{}
	for i, a := range rep.Approaches {
		byName[a.Name] = i
	}
	lab := fmt.Sprintf("%d pods on %d kwok nodes, %s", rep.Pods, rep.Nodes, rep.Stages)
	for _, oursName := range []string{"pod_restart_p", "pod_restart"} {
		oi, ok := byName[oursName]
		if !ok {
			continue
		}
		ours := rep.Approaches[oi]
		label := fmt.Sprintf("pod_restart (parallelism %s), %s", ours.Parallelism, s.label)
		for _, anchorName := range []string{"manual", "shell"} {
			ai, ok := byName[anchorName]
			if !ok {
				continue
			}
			a := rep.Approaches[ai]
			runs := fmt.Sprintf("ours %s, anchor %s", runsNote(ours.Runs), runsNote(a.Runs))
			t.add(secRestart, row{
				what: fmt.Sprintf("%s — wall time vs %s", label, anchorNames[anchorName]),
				ours: secs(ours.WallSeconds), anchor: secs(a.WallSeconds), ratio: ratio(ours.WallSeconds, a.WallSeconds),
				note: fmt.Sprintf("%s; %s; all runs ours %s, anchor %s; CPU (user+system) ours %s, anchor %s; %s", faster(ours.WallSeconds, a.WallSeconds), runs,
					secsList(ours.AllWalls), secsList(a.AllWalls), secs(ours.CPUSeconds), secs(a.CPUSeconds), lab),
			})
			t.add(secRestart, row{
				what: fmt.Sprintf("%s — peak RSS vs %s", label, anchorName),
				ours: mib(ours.PeakRSSKB), anchor: mib(a.PeakRSSKB), ratio: ratio(ours.PeakRSSKB, a.PeakRSSKB),
				note: fmt.Sprintf("largest single process (wait4 ru_maxrss, as /usr/bin/time -v); whole process tree added up (sampled every 100 ms): ours %s, anchor %s",
					mib(ours.PeakTreeKB), mib(a.PeakTreeKB)),
			})
			t.add(secRestart, row{
				what: fmt.Sprintf("%s — API requests vs %s", label, anchorName),
				ours: count(ours.APIRequests), anchor: count(a.APIRequests), ratio: ratio(ours.APIRequests, a.APIRequests),
				note: fmt.Sprintf("apiserver_request_total before/after (includes the controllers' and kwok's work the run caused); the tool's own requests (counting proxy): ours %s, anchor %s",
					count(ours.ToolRequests), count(a.ToolRequests)),
			})
		}
	}
}

func secsList(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, secs(x))
	}
	return strings.Join(parts, ", ")
}
