package report

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// JUnit XML, in the shape CI systems (Jenkins, GitLab, GitHub actions reporters) read: one
// testsuite per layer, one testcase per check or probe, <failure> or <skipped> with the reason.

// TestSuites is the JUnit document root.
type TestSuites struct {
	XMLName  xml.Name    `xml:"testsuites"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Suites   []TestSuite `xml:"testsuite"`
}

// TestSuite is one layer.
type TestSuite struct {
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Cases    []TestCase `xml:"testcase"`
}

// TestCase is one check or probe.
type TestCase struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Failure   *Failure `xml:"failure,omitempty"`
	Skipped   *Skipped `xml:"skipped,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Failure is a failed case.
type Failure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// Skipped is a skipped case.
type Skipped struct {
	Message string `xml:"message,attr"`
}

// JUnit renders the report as JUnit XML.
func JUnit(r *result.Report) ([]byte, error) {
	doc := TestSuites{Name: "connectivity_check"}
	for _, layer := range []struct {
		name    string
		entries []result.Entry
	}{{result.LayerHealth, r.Checks}, {result.LayerProbes, r.Probes}} {
		if len(layer.entries) == 0 {
			continue
		}
		s := suite(layer.name, layer.entries)
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render JUnit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func suite(name string, entries []result.Entry) TestSuite {
	s := TestSuite{Name: name, Tests: len(entries)}
	for _, e := range entries {
		c := TestCase{Name: caseName(e), Classname: "connectivity_check." + name, SystemOut: caseOutput(e)}
		switch e.Status {
		case result.Failed:
			s.Failures++
			c.Failure = &Failure{Message: e.Problem(), Type: "failed", Text: strings.Join(e.Details, "\n")}
		case result.Skipped:
			s.Skipped++
			c.Skipped = &Skipped{Message: e.Reason}
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}

// caseName is stable across runs (CI systems track a test by its name): probe name, source node
// and destination node; pod names, the test namespace and Service addresses change every run and
// go to the case's output instead.
func caseName(e result.Entry) string {
	switch {
	case e.Source == nil:
		return e.Name
	case e.Destination != nil && e.Destination.Node != "":
		return fmt.Sprintf("%s: %s → %s", e.Name, e.Source.Node, e.Destination.Node)
	}
	return fmt.Sprintf("%s: from %s", e.Name, e.Source.Node)
}

// caseOutput shows who talked to whom, what was observed, latency and the baseline delta.
func caseOutput(e result.Entry) string {
	var lines []string
	if e.Source != nil {
		lines = append(lines, "source: "+e.Source.String())
	}
	if e.Destination != nil {
		lines = append(lines, "destination: "+e.Destination.String())
	}
	if e.Expected != "" {
		lines = append(lines, "expected: "+e.Expected)
	}
	if e.Observed != "" {
		lines = append(lines, "observed: "+e.Observed)
	}
	if l := e.Latency; l != nil {
		lines = append(lines, fmt.Sprintf("latency ms: min %g avg %g p50 %g p95 %g max %g (n=%d)", l.Min, l.Avg, l.P50, l.P95, l.Max, l.N))
	}
	if e.Delta != "" {
		lines = append(lines, "baseline: "+e.Delta)
	}
	return strings.Join(lines, "\n")
}
