package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// LoadBaseline reads an earlier result: a file written by output_json, or a registered module
// result saved as JSON (both carry the format marker at the top level).
func LoadBaseline(path string) (*result.Report, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("baseline %s does not exist (write one with output_json on an earlier run)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", path, err)
	}
	var probe struct {
		Format *string `json:"format"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("baseline %s is not a connectivity_check result: not a JSON object: %v", path, err)
	}
	switch {
	case probe.Format == nil:
		return nil, fmt.Errorf("baseline %s is not a connectivity_check result: it has no \"format\" key (want %q)",
			path, defaults.ConnectivityReportFormat)
	case *probe.Format != defaults.ConnectivityReportFormat:
		return nil, fmt.Errorf("baseline %s has format %q; this version reads %q", path, *probe.Format, defaults.ConnectivityReportFormat)
	}
	var r result.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return &r, nil
}

// Compare sets each entry's Delta against the baseline entry with the same key (name, source node,
// destination node) and returns one line per compared entry.
func Compare(baseline *result.Report, entries []result.Entry) []string {
	before := map[string]result.Entry{}
	for _, e := range append(append([]result.Entry(nil), baseline.Checks...), baseline.Probes...) {
		before[e.Key()] = e
	}
	lines := []string{}
	for i := range entries {
		b, ok := before[entries[i].Key()]
		if !ok {
			continue
		}
		if d := delta(b, entries[i]); d != "" {
			entries[i].Delta = d
			lines = append(lines, entries[i].Title()+": "+d)
		}
	}
	return lines
}

// delta renders the change from b to a: status, p95 and average latency, throughput.
func delta(b, a result.Entry) string {
	var parts []string
	if b.Status != a.Status {
		parts = append(parts, fmt.Sprintf("%s → %s", b.Status, a.Status))
	}
	if b.Latency != nil && a.Latency != nil {
		parts = append(parts, latencyDelta("p95", b.Latency.P95, a.Latency.P95), latencyDelta("avg", b.Latency.Avg, a.Latency.Avg))
	}
	if b.Throughput != nil && a.Throughput != nil {
		bt, at := b.Throughput.ReceivedBitsPerSecond, a.Throughput.ReceivedBitsPerSecond
		parts = append(parts, fmt.Sprintf("throughput %s → %s, %s", bits(bt), bits(at), percent(bt, at)))
	}
	return strings.Join(parts, "; ")
}

// latencyDelta renders "p95 3.2 ms → 2.1 ms, -34%".
func latencyDelta(what string, before, after float64) string {
	return fmt.Sprintf("%s %s ms → %s ms, %s", what, ms(before), ms(after), percent(before, after))
}

func ms(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func percent(before, after float64) string {
	if before == 0 {
		return "n/a"
	}
	p := math.Round((after - before) / before * 100)
	if p == 0 {
		return "±0%"
	}
	return fmt.Sprintf("%+.0f%%", p)
}

func bits(bps float64) string {
	return strconv.FormatFloat(math.Round(bps/1e7)/100, 'f', -1, 64) + " Gbit/s"
}
