package connectivity

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/health"
	"github.com/cnimigrate/cnimigrate/internal/connectivity/probe"
	"github.com/cnimigrate/cnimigrate/internal/connectivity/report"
	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Clients are the narrow interfaces the check reads and writes with.
type Clients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Exec    probe.Executor
}

// CheckModeReason is why probes are skipped in check mode.
const CheckModeReason = "check mode: probes create temporary objects, so only the read-only health checks ran"

// ChecksFailedError is returned (with the report) when a check failed and fail_on is any.
type ChecksFailedError struct{ Report *result.Report }

func (e *ChecksFailedError) Error() string {
	var lines []string
	for i, f := range e.Report.Failures() {
		if i == 5 {
			lines = append(lines, fmt.Sprintf("… and %d more", len(e.Report.Failures())-5))
			break
		}
		lines = append(lines, f.Title()+": "+f.Problem())
	}
	return e.Report.Summary + ". Failed: " + strings.Join(lines, "; ")
}

// Run runs the selected checks. Bad input (a baseline that is missing or of another format, a
// node selector matching no node) fails before anything is created. The report is returned
// whenever there is one, also with an error.
func Run(ctx context.Context, c Clients, p Parameters) (*result.Report, error) {
	var base *result.Report
	if p.Baseline != "" {
		var err error
		if base, err = report.LoadBaseline(p.Baseline); err != nil {
			return nil, err
		}
	}
	r := &result.Report{Format: defaults.ConnectivityReportFormat, Checks: []result.Entry{}, Probes: []result.Entry{},
		TemporaryObjects: []string{}}
	if hc := p.healthEnabled(); len(hc) > 0 {
		out, err := health.Run(ctx, health.Config{Kube: c.Kube, Dynamic: c.Dynamic, CNI: p.CNI, Namespaces: p.Namespaces, Enabled: hc})
		if err != nil {
			return nil, fmt.Errorf("health checks: %w", err)
		}
		r.Checks, r.CNI, r.Pods = out.Entries, out.CNI, out.Pods
	}
	if err := runProbes(ctx, c, p, r); err != nil {
		r.Finish()
		return r, err
	}
	if base != nil {
		r.Baseline = &result.Baseline{Path: p.Baseline,
			Deltas: append(report.Compare(base, r.Checks), report.Compare(base, r.Probes)...)}
	}
	r.Finish()
	if err := writeOutputs(p, r); err != nil {
		return r, err
	}
	if p.FailOn == FailOnAny && len(r.Failures()) > 0 {
		return r, &ChecksFailedError{Report: r}
	}
	return r, nil
}

func runProbes(ctx context.Context, c Clients, p Parameters, r *result.Report) error {
	groups := p.probesEnabled()
	if len(groups) == 0 {
		if p.Iperf3 {
			r.Notes = append(r.Notes, "iperf3 is ignored: no probe group is selected in checks")
		}
		return nil
	}
	cfg := probe.Config{Kube: c.Kube, Exec: c.Exec, Groups: groups, Images: p.Images, Samples: p.Samples,
		ProbeTimeout: p.ProbeTimeout, Timeout: p.Timeout, NodeSelector: p.NodeSelector, Tolerations: p.Tolerations,
		ExternalTarget: p.ExternalTarget, ExternalDNSName: p.ExternalDNSName, Iperf3: p.Iperf3, Keep: p.Keep}
	var out *probe.Outcome
	var err error
	if p.CheckMode {
		out, err = probe.Plan(ctx, cfg, CheckModeReason)
	} else {
		out, err = probe.Run(ctx, cfg)
	}
	if out != nil {
		r.Probes, r.Namespace, r.TemporaryObjects = out.Entries, out.Namespace, out.Objects
		r.Kept, r.Cleanup, r.Notes = out.Kept, out.Cleanup, append(r.Notes, out.Notes...)
		if r.Probes == nil {
			r.Probes = []result.Entry{}
		}
	}
	if err != nil {
		return fmt.Errorf("probes: %w", err)
	}
	return nil
}

// writeOutputs writes output_json and output_junit; check mode writes nothing and says so.
func writeOutputs(p Parameters, r *result.Report) error {
	if p.OutputJSON == "" && p.OutputJUnit == "" {
		return nil
	}
	if p.CheckMode {
		r.Notes = append(r.Notes, "check mode: output_json and output_junit were not written")
		return nil
	}
	if p.OutputJSON != "" {
		if err := report.WriteJSON(p.OutputJSON, r); err != nil {
			return fmt.Errorf("output_json: %w", err)
		}
	}
	if p.OutputJUnit != "" {
		if err := report.WriteJUnit(p.OutputJUnit, r); err != nil {
			return fmt.Errorf("output_junit: %w", err)
		}
	}
	return nil
}
