package playbook

import (
	"fmt"
	"sort"
	"strings"
)

// Result is what one ansible-playbook run reported.
type Result struct {
	ExitCode int
	Output   string // Ansible's screen output (stdout and stderr)
	Plays    []Play
	Stats    map[string]Recap // the play recap, by host
}

// Play is one play of the playbook, its tasks in the order they ran.
type Play struct {
	Name  string `json:"name"`
	Tasks []Task `json:"tasks"`
}

// Task is one task and its result on each host it ran on.
type Task struct {
	Name   string                `json:"name"`
	Action string                `json:"action"` // the module or action plugin, as written in the task
	Hosts  map[string]HostResult `json:"hosts"`
}

// HostResult is one task's result on one host.
type HostResult struct {
	Status  string         `json:"status"`  // ok, changed, failed, skipped or unreachable
	Ignored bool           `json:"ignored"` // failed, but the task had ignore_errors
	Result  map[string]any `json:"result"`  // what the module returned (msg, changed, its own keys …)
}

// Failed reports whether the task failed on the host (ignored or not).
func (h HostResult) Failed() bool { return h.Status == "failed" || h.Status == "unreachable" }

// Changed reports whether the task reported a change.
func (h HostResult) Changed() bool { return h.Status == "changed" }

// Skipped reports whether the task was skipped (a condition, or check mode unsupported).
func (h HostResult) Skipped() bool { return h.Status == "skipped" }

// Msg is the result's msg.
func (h HostResult) Msg() string { s, _ := h.Result["msg"].(string); return s }

// Recap is one host's line of the play recap.
type Recap struct {
	OK          int `json:"ok"`
	Changed     int `json:"changed"`
	Unreachable int `json:"unreachable"`
	Failures    int `json:"failures"`
	Skipped     int `json:"skipped"`
	Rescued     int `json:"rescued"`
	Ignored     int `json:"ignored"`
}

func (r Recap) add(o Recap) Recap {
	return Recap{r.OK + o.OK, r.Changed + o.Changed, r.Unreachable + o.Unreachable,
		r.Failures + o.Failures, r.Skipped + o.Skipped, r.Rescued + o.Rescued, r.Ignored + o.Ignored}
}

// Totals sums the recap over all hosts.
func (r *Result) Totals() Recap {
	var t Recap
	for _, s := range r.Stats {
		t = t.add(s)
	}
	return t
}

// Tasks returns every task with that name, in the order they ran (a name may repeat across plays).
func (r *Result) Tasks(name string) []Task {
	var out []Task
	for _, p := range r.Plays {
		for _, t := range p.Tasks {
			if t.Name == name {
				out = append(out, t)
			}
		}
	}
	return out
}

// HostResult returns the first task named name's result on host.
func (r *Result) HostResult(task, host string) (HostResult, bool) {
	for _, t := range r.Tasks(task) {
		if hr, ok := t.Hosts[host]; ok {
			return hr, true
		}
	}
	return HostResult{}, false
}

// failures lists "host: task: msg" for every failure that was not ignored.
func (r *Result) failures() []string {
	var out []string
	for _, p := range r.Plays {
		for _, t := range p.Tasks {
			for h, hr := range t.Hosts {
				if hr.Failed() && !hr.Ignored {
					out = append(out, fmt.Sprintf("%s: %s: %s", h, t.Name, hr.Msg()))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// String is a one-line summary like Ansible's recap.
func (r Recap) String() string {
	return fmt.Sprintf("ok=%d changed=%d unreachable=%d failed=%d skipped=%d rescued=%d ignored=%d",
		r.OK, r.Changed, r.Unreachable, r.Failures, r.Skipped, r.Rescued, r.Ignored)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
