package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/connectivity/stats"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

func crossNode(src, dst string, p95, avg float64, status result.Status) result.Entry {
	return result.Entry{Name: "pod-to-pod/cross-node", Layer: result.LayerProbes, Status: status,
		Source:      &result.Endpoint{Node: src, Pod: "client-" + src},
		Destination: &result.Endpoint{Node: dst, Pod: "echo-" + dst, Address: "10.42.1.5"},
		Expected:    "success", Observed: "10/10 success",
		Latency: &stats.Summary{N: 10, Min: 0.5, Avg: avg, P50: avg, P95: p95, Max: p95 + 1}}
}

func sampleReport() *result.Report {
	r := &result.Report{
		Format: defaults.ConnectivityReportFormat,
		Checks: []result.Entry{
			{Name: "nodes", Layer: result.LayerHealth, Status: result.Passed, Observed: "3/3 nodes Ready"},
			{Name: "coredns", Layer: result.LayerHealth, Status: result.Failed, Error: "Deployment kube-system/coredns has no available replica",
				Details: []string{"Service kube-dns: 0 ready endpoints"}},
		},
		Probes: []result.Entry{
			crossNode("n1", "n2", 2.1, 1.2, result.Passed),
			crossNode("n2", "n3", 2.5, 1.4, result.Failed),
			{Name: "dns/external", Layer: result.LayerProbes, Status: result.Skipped, Reason: "external_dns_name is not set",
				Source: &result.Endpoint{Node: "n1"}},
		},
	}
	r.Finish()
	return r
}

func TestBaselineDeltas(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	before := sampleReport()
	before.Probes[0] = crossNode("n1", "n2", 3.2, 1.8, result.Passed)
	before.Probes[1] = crossNode("n2", "n3", 2.5, 1.4, result.Passed)
	path := filepath.Join(dir, "before.json")
	if err := WriteJSON(path, before); err != nil {
		t.Fatal(err)
	}
	base, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	after := sampleReport()
	lines := Compare(base, after.Probes)
	if got, want := after.Probes[0].Delta, "p95 3.2 ms → 2.1 ms, -34%; avg 1.8 ms → 1.2 ms, -33%"; got != want {
		t.Errorf("delta %q, want %q", got, want)
	}
	if got := after.Probes[1].Delta; !strings.HasPrefix(got, "passed → failed; p95 2.5 ms → 2.5 ms, ±0%") {
		t.Errorf("a probe that broke since the baseline must say so first: %q", got)
	}
	if after.Probes[2].Delta != "" {
		t.Errorf("skipped probes without measurements get no delta: %q", after.Probes[2].Delta)
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "pod-to-pod/cross-node: client-n1 on n1 → echo-n2 on n2: p95") {
		t.Errorf("delta lines %q", lines)
	}
}

func TestLoadBaselineRejectsOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "does not exist"},
		{"not JSON", write("junit.xml", "<testsuites/>"), "not a JSON object"},
		{"another JSON document", write("other.json", `{"changed": false, "stdout": "x"}`), `has no "format" key`},
		{"another format version", write("v0.json", `{"format": "cnimigrate.connectivity/v0"}`), `has format "cnimigrate.connectivity/v0"`},
		{"a JSON list", write("list.json", `[1,2]`), "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadBaseline(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("LoadBaseline = %v, want an error naming the file and containing %q", err, tt.want)
			}
		})
	}
}

func TestJUnitParsesBack(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	r.Probes[0].Delta = "p95 3.2 ms → 2.1 ms, -34%"
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := WriteJUnit(path, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc TestSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, b)
	}
	if doc.Tests != 5 || doc.Failures != 2 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Fatalf("totals tests=%d failures=%d skipped=%d suites=%d", doc.Tests, doc.Failures, doc.Skipped, len(doc.Suites))
	}
	health, probes := doc.Suites[0], doc.Suites[1]
	if health.Name != "health" || health.Tests != 2 || health.Failures != 1 || probes.Name != "probes" || probes.Skipped != 1 {
		t.Errorf("suites %+v / %+v", health, probes)
	}
	dns := health.Cases[1]
	if dns.Failure == nil || !strings.Contains(dns.Failure.Message, "no available replica") || dns.Failure.Text != "Service kube-dns: 0 ready endpoints" {
		t.Errorf("failed case %+v", dns)
	}
	ok := probes.Cases[0]
	if ok.Failure != nil || ok.Skipped != nil || ok.Name != "pod-to-pod/cross-node: n1 → n2" ||
		ok.Classname != "connectivity_check.probes" || !strings.Contains(ok.SystemOut, "baseline: p95 3.2 ms → 2.1 ms, -34%") ||
		!strings.Contains(ok.SystemOut, "source: client-n1 on n1") {
		t.Errorf("passed case %+v", ok)
	}
	if sk := probes.Cases[2]; sk.Skipped == nil || sk.Skipped.Message != "external_dns_name is not set" || sk.Name != "dns/external: from n1" {
		t.Errorf("skipped case %+v", sk)
	}
}
