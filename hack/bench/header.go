package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// header is what the table needs to be read: machine, commit, runs, lab settings.
func (o *options) header(elapsed time.Duration, final bool) []string {
	status := fmt.Sprintf("took %s", elapsed.Round(time.Second))
	if !final {
		status = fmt.Sprintf("PARTIAL: still running after %s", elapsed.Round(time.Second))
	}
	return []string{
		"# cnimigrate benchmark",
		"",
		fmt.Sprintf("- machine: **%d CPU cores** (%s), %s/%s, kernel %s; shared with other work: absolute times drift, ratios measured side by side hold",
			runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, kernel()),
		fmt.Sprintf("- commit %s, %s; %s", gitDescribe(o.repo), time.Now().UTC().Format("2006-01-02 15:04 MST"), status),
		fmt.Sprintf("- runs: %s per figure unless a row says otherwise (restart section: %d per approach, manual loop %d; migrations: 1 per strategy)", runsWord(o.runs), o.restartRuns, o.manualRuns),
		fmt.Sprintf("- machine load (1-minute load average) when each section started: %s", strings.Join(o.load, ", ")),
		fmt.Sprintf("- lab: kwokctl binary runtime, Kubernetes %s, etcd %s, kwok %s; kwok nodes, node hosts reached over SSH",
			defaults.LabKubeVersion, defaults.LabEtcdVersion, defaults.LabKwokVersion),
		"- QPS limits **default**: kube-controller-manager 20 req/s (burst 30), kube-scheduler 50 (burst 100), kube-apiserver 400/200 requests in flight, as in users' clusters; " +
			"**lifted** (kwokctl disableQPSLimits): controller-manager and scheduler 5000 req/s (burst 10000), API server in-flight limits off; kwok's controller is unthrottled in both",
		fmt.Sprintf("- kwok stages: section 2 uses kwok's **general** pod stages, each pod Ready ~%s after it is scheduled (create and ready steps each %s–%s, uniform), deleted at once (grace period 0); sections 1, 3, 4 use kwokctl's default **fast** stages (pods Ready at once)",
			o.podStart, o.podStart/4, o.podStart*3/4),
		"- ratio = ours ÷ anchor: below 1× is better for time, memory, requests and size",
	}
}

func runsWord(n int) string {
	if n == 1 {
		return "1 run"
	}
	return fmt.Sprintf("median of %d runs", n)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func gitDescribe(repo string) string {
	out, err := exec.Command("git", "-C", repo, "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
