package restart

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// stepError is a step failure with what was observed and, for evictions, the refusing PDB.
type stepError struct {
	reason   string
	observed string
	pdb      string
}

func (e *stepError) Error() string { return e.reason }

// describeFailure turns a step's error into the report's reason, observation and PDB name.
func describeFailure(ctx context.Context, err error) (reason, observed, pdb string) {
	var se *stepError
	var te *wait.TimeoutError
	switch {
	case errors.As(err, &se):
		reason, observed, pdb = se.reason, se.observed, se.pdb
	case errors.As(err, &te):
		reason, observed = fmt.Sprintf("timed out after %s waiting for %s", te.Timeout.Round(1e9), te.What), te.Observed
		if te.LastErr != nil {
			observed += fmt.Sprintf(" (last error: %v)", te.LastErr)
		}
	default:
		reason = err.Error()
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = "total_timeout reached: " + reason
		} else {
			reason = "interrupted: " + reason
		}
	}
	return reason, observed, pdb
}

// report assembles the run's report.
func (s *Session) report(pl *Plan, results []Result, bare, other []BarePod) *Report {
	rep := &Report{
		Workloads: results, Skipped: pl.Skipped, BarePods: bare, OtherPods: other, Failures: []Failure{},
		Managed: pl.Managed, TargetCIDRs: pl.TargetCIDRs, Warnings: pl.Warnings,
	}
	rep.Totals = Totals{Planned: len(results), Skipped: len(pl.Skipped), BarePods: len(bare), OtherPods: len(other)}
	for _, r := range results {
		rep.Changed = rep.Changed || r.changed
		switch r.Outcome {
		case OutcomeRolledOut, OutcomeTriggered:
			if r.Action == ActionWait {
				rep.Totals.Resumed++
			} else {
				rep.Totals.Restarted++
			}
		case OutcomeFailed:
			rep.Totals.Failed++
			rep.Failures = append(rep.Failures, Failure{Ref: r.Ref, Reason: r.Message, Observed: r.Observed, PDB: r.PDB})
		case OutcomeNotStarted:
			rep.Totals.NotStarted++
		}
	}
	for _, b := range append(slices.Clone(bare), other...) {
		rep.Changed = rep.Changed || b.changed
		switch b.Outcome {
		case OutcomeFailed:
			rep.Totals.Failed++
			rep.Failures = append(rep.Failures, Failure{Ref: Ref{Kind: "Pod", Namespace: b.Namespace, Name: b.Name},
				Reason: b.Message, PDB: b.PDB})
		case OutcomeNotStarted:
			rep.Totals.NotStarted++
		}
	}
	return rep
}

// Planned is the report of a plan that is not applied (check mode): every step "planned", changed
// when anything would be restarted or evicted.
func Planned(pl *Plan) *Report {
	rep := &Report{
		Workloads: []Result{}, Skipped: pl.Skipped, BarePods: []BarePod{}, OtherPods: []BarePod{}, Failures: []Failure{},
		Managed: pl.Managed, TargetCIDRs: pl.TargetCIDRs, Warnings: pl.Warnings,
	}
	for _, st := range pl.Steps {
		rep.Workloads = append(rep.Workloads, Result{Ref: st.Ref, Action: st.Action, Reason: st.Reason, Outcome: OutcomePlanned})
		rep.Changed = rep.Changed || st.Action != ActionWait
	}
	planned := func(pods []BarePod) []BarePod {
		out := []BarePod{}
		for _, b := range pods {
			b.Outcome = OutcomePlanned
			if b.Action != ActionEvict {
				b.Outcome = BareReported
			}
			rep.Changed = rep.Changed || b.Action == ActionEvict
			out = append(out, b)
		}
		return out
	}
	rep.BarePods, rep.OtherPods = planned(pl.BarePods), planned(pl.OtherPods)
	rep.Totals = Totals{Planned: len(pl.Steps), Skipped: len(pl.Skipped), BarePods: len(pl.BarePods), OtherPods: len(pl.OtherPods)}
	return rep
}

// err summarises failures and steps that never started; nil when everything completed.
func (r *Report) err() error {
	if r.Totals.Failed == 0 && r.Totals.NotStarted == 0 {
		return nil
	}
	var parts []string
	if r.Totals.Failed > 0 {
		var first []string
		for i, f := range r.Failures {
			if i == 3 {
				first = append(first, fmt.Sprintf("and %d more", len(r.Failures)-3))
				break
			}
			first = append(first, fmt.Sprintf("%s: %s", f.Ref, f.Reason))
		}
		parts = append(parts, fmt.Sprintf("%d failed (%s)", r.Totals.Failed, strings.Join(first, "; ")))
	}
	if r.Totals.NotStarted > 0 {
		parts = append(parts, fmt.Sprintf("%d not started", r.Totals.NotStarted))
	}
	return fmt.Errorf("pod restart incomplete: %s; see failures and workloads in the result, then run again to resume",
		strings.Join(parts, ", "))
}

// Summary is a one-line account of a report, for the module's msg.
func (r *Report) Summary(check bool) string {
	t := r.Totals
	if check {
		return fmt.Sprintf("would restart %d workloads; %d skipped; %d bare pods; %d pods of other controllers",
			t.Planned, t.Skipped, t.BarePods, t.OtherPods)
	}
	s := fmt.Sprintf("restarted %d of %d workloads", t.Restarted, t.Planned)
	if t.Resumed > 0 {
		s += fmt.Sprintf(" (%d more finished an earlier restart)", t.Resumed)
	}
	return s + fmt.Sprintf("; %d failed; %d not started; %d skipped; %d bare pods; %d pods of other controllers; %.1fs",
		t.Failed, t.NotStarted, t.Skipped, t.BarePods, t.OtherPods, r.DurationSeconds)
}
