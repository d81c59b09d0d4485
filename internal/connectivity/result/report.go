package result

import (
	"fmt"
	"strings"
)

// Report is the whole result of one run.
type Report struct {
	// Format marks the document so that a later run accepts it as a baseline.
	Format string `json:"format"`
	// Summary is the one line of counts: "6/6 health checks passed, 0 failed, 0 skipped; ...".
	Summary string `json:"summary"`
	Counts  Counts `json:"counts"`
	// CNI lists the CNI agents found (or named by the cni option).
	CNI    []string  `json:"cni"`
	Pods   *PodCount `json:"pods,omitempty"`
	Checks []Entry   `json:"checks"`
	Probes []Entry   `json:"probes"`
	// Namespace is the probe layer's temporary namespace ("" when no probe ran).
	Namespace string `json:"namespace,omitempty"`
	// TemporaryObjects lists what the probe layer created (or, in check mode, would create).
	TemporaryObjects []string `json:"temporary_objects"`
	// Kept is true when keep: true left the temporary objects in place.
	Kept bool `json:"kept,omitempty"`
	// Cleanup says how removing the temporary objects went.
	Cleanup string `json:"cleanup,omitempty"`
	// Notes are remarks for the user: nodes the probes left out, files not written in check mode.
	Notes    []string  `json:"notes,omitempty"`
	Baseline *Baseline `json:"baseline,omitempty"`
}

// PodCount is "N/M pods managed by Cilium", as cilium status counts them, plus Calico's share.
type PodCount struct {
	Total  int `json:"total"`
	Cilium int `json:"cilium"`
	Calico int `json:"calico"`
	Other  int `json:"other"`
}

// Baseline is the comparison with an earlier run.
type Baseline struct {
	Path   string   `json:"path"`
	Deltas []string `json:"deltas"`
}

// Counts are the verdicts per layer.
type Counts struct {
	Health LayerCount `json:"health"`
	Probes LayerCount `json:"probes"`
}

// LayerCount counts one layer's verdicts.
type LayerCount struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// Run is how many ran (not skipped).
func (c LayerCount) Run() int { return c.Passed + c.Failed }

// Count tallies entries.
func Count(entries []Entry) LayerCount {
	var c LayerCount
	for _, e := range entries {
		switch e.Status {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
		}
	}
	return c
}

// Finish computes the counts and the summary line.
func (r *Report) Finish() {
	r.Counts = Counts{Health: Count(r.Checks), Probes: Count(r.Probes)}
	var parts []string
	if len(r.Checks) > 0 {
		parts = append(parts, line(r.Counts.Health, "health checks"))
	}
	if len(r.Probes) > 0 {
		parts = append(parts, line(r.Counts.Probes, "probes"))
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing was checked")
	}
	r.Summary = strings.Join(parts, "; ")
}

// line renders "23/24 probes passed, 1 failed, 2 skipped": passed out of those that ran.
func line(c LayerCount, what string) string {
	return fmt.Sprintf("%d/%d %s passed, %d failed, %d skipped", c.Passed, c.Run(), what, c.Failed, c.Skipped)
}

// Failures returns the failed entries of both layers.
func (r *Report) Failures() []Entry {
	var out []Entry
	for _, e := range append(append([]Entry(nil), r.Checks...), r.Probes...) {
		if e.Status == Failed {
			out = append(out, e)
		}
	}
	return out
}
