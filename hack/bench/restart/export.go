package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// runsOf is how many runs an approach gets: the manual loop is the slowest by far, so it may get fewer.
func (o options) runsOf(name string) int {
	if name == "manual" && o.manualRuns > 0 {
		return min(o.manualRuns, o.runs)
	}
	return o.runs
}

// stages describes the lab's kwok pod stages.
func (o options) stages() string {
	if o.podStartDelay > 0 {
		return fmt.Sprintf("kwok general pod stages (pods Ready ~%s after scheduling, ±50%%)", o.podStartDelay)
	}
	return "kwok default (fast) pod stages"
}

// report is what -json writes: the setup, and per approach the medians and every run.
type report struct {
	Workloads     int              `json:"workloads"`
	Namespaces    int              `json:"namespaces"`
	Pods          int              `json:"pods"`
	Nodes         int              `json:"nodes"`
	CPUs          int              `json:"cpus"`
	UnlimitedQPS  bool             `json:"unlimited_qps"`
	PodStartDelay string           `json:"pod_start_delay"`
	Stages        string           `json:"stages"`
	Approaches    []approachReport `json:"approaches"`
}

type approachReport struct {
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Parallelism  string    `json:"parallelism"`
	Runs         int       `json:"runs"`
	WallSeconds  float64   `json:"wall_seconds"`     // medians from here on
	CPUSeconds   float64   `json:"cpu_seconds"`      // user+system, waited-for children included
	PeakRSSKB    int64     `json:"peak_rss_kb"`      // largest single process
	PeakTreeKB   int64     `json:"peak_tree_rss_kb"` // the process tree added up
	ToolRequests int       `json:"tool_requests"`
	APIRequests  float64   `json:"api_requests"`
	AllWalls     []float64 `json:"all_wall_seconds"`
}

func (o options) writeJSON(path string, results map[string][]measure) error {
	r := report{Workloads: o.workloads(), Namespaces: o.namespaces, Pods: o.pods(), Nodes: o.nodes,
		CPUs: runtime.NumCPU(), UnlimitedQPS: o.unlimitedQPS, PodStartDelay: o.podStartDelay.String(), Stages: o.stages()}
	for _, name := range strings.Split(o.approaches, ",") {
		ms := results[name]
		m := median(ms)
		a := approachReport{Name: name, Description: describe[name], Parallelism: o.parallelismOf(name), Runs: len(ms),
			WallSeconds: m.wall.Seconds(), CPUSeconds: m.cpu.Seconds(), PeakRSSKB: m.rssKB, PeakTreeKB: m.treeKB, ToolRequests: m.toolReqs, APIRequests: m.apiReqs}
		for _, x := range ms {
			a.AllWalls = append(a.AllWalls, x.wall.Seconds())
		}
		r.Approaches = append(r.Approaches, a)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
