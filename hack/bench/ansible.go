package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

//go:embed tasktimes.py
var taskTimesPlugin []byte

const taskTimesCallback = "cnimigrate_bench_times"

var enableOnce sync.Once

// enableTaskTimes installs our timing callback next to internal/testbed/playbook's own: playbook.Run adds
// this process' ANSIBLE_CALLBACK_PLUGINS and ANSIBLE_CALLBACKS_ENABLED to its own settings.
func (o *options) enableTaskTimes() error {
	var err error
	enableOnce.Do(func() {
		dir := filepath.Join(o.tmp, "callbacks")
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return
		}
		if err = os.WriteFile(filepath.Join(dir, taskTimesCallback+".py"), taskTimesPlugin, 0o644); err != nil {
			return
		}
		_ = os.Setenv("ANSIBLE_CALLBACK_PLUGINS", joinNonEmpty(dir, os.Getenv("ANSIBLE_CALLBACK_PLUGINS"), ":"))
		_ = os.Setenv("ANSIBLE_CALLBACKS_ENABLED", joinNonEmpty(taskTimesCallback, os.Getenv("ANSIBLE_CALLBACKS_ENABLED"), ","))
	})
	return err
}

func joinNonEmpty(a, b, sep string) string {
	if b == "" {
		return a
	}
	return a + sep + b
}

// taskTime is one task of a playbook run, as our callback recorded it.
type taskTime struct {
	Name   string  `json:"name"`
	Action string  `json:"action"`
	Role   string  `json:"role"`
	Start  float64 `json:"start"`
	Hosts  map[string]struct {
		End    float64 `json:"end"`
		Status string  `json:"status"`
	} `json:"hosts"`
}

// seconds is from the task's start until its last host finished (0 if none did).
func (t taskTime) seconds() float64 {
	var end float64
	for _, h := range t.Hosts {
		end = max(end, h.End)
	}
	if end == 0 {
		return 0
	}
	return end - t.Start
}

// ansibleRun is one ansible-playbook run: its wall time, per-task times and what Ansible reported.
type ansibleRun struct {
	wall   time.Duration
	tasks  []taskTime
	result *playbook.Result
	err    error
}

// runPlaybook runs ansible-playbook through internal/testbed/playbook (as the e2e suite does) with our
// timing callback; Ansible's screen output goes to logPath.
func (o *options) runPlaybook(ctx context.Context, p playbook.Params, logPath string) ansibleRun {
	if err := o.enableTaskTimes(); err != nil {
		return ansibleRun{err: err}
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return ansibleRun{err: err}
	}
	defer logFile.Close()
	times := logPath + ".times.json"
	if p.Env == nil {
		p.Env = map[string]string{}
	}
	p.Env["CNIMIGRATE_BENCH_TIMES"] = times
	p.Output = logFile
	start := time.Now()
	res, err := playbook.Run(ctx, p)
	r := ansibleRun{wall: time.Since(start), result: res, err: err}
	if data, rerr := os.ReadFile(times); rerr == nil {
		if jerr := json.Unmarshal(data, &r.tasks); jerr != nil && r.err == nil {
			r.err = fmt.Errorf("task times: %w", jerr)
		}
	}
	return r
}

// byRole adds up task times per role ("" for tasks outside roles), largest first.
func byRole(tasks []taskTime) []struct {
	role    string
	seconds float64
} {
	sums := map[string]float64{}
	for _, t := range tasks {
		sums[t.Role] += t.seconds()
	}
	var out []struct {
		role    string
		seconds float64
	}
	for r, s := range sums {
		out = append(out, struct {
			role    string
			seconds float64
		}{r, s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seconds > out[j].seconds })
	return out
}

// slowest returns the n slowest tasks.
func slowest(tasks []taskTime, n int) []taskTime {
	s := append([]taskTime(nil), tasks...)
	sort.Slice(s, func(i, j int) bool { return s[i].seconds() > s[j].seconds() })
	return s[:min(n, len(s))]
}
