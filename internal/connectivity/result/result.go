// Package result holds what a connectivity check reports: one Entry per health check or probe,
// and the Report that collects them. It is shared by the health, probe and report packages and
// serialised as the module's result, the output_json file and a later run's baseline.
package result

import (
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/stats"
)

// Status is the verdict of one check or probe.
type Status string

// The verdicts. Skipped always carries a reason: an unmet requirement is never a silent pass.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Layers.
const (
	LayerHealth = "health"
	LayerProbes = "probes"
)

// Outcome is what a probe's tool observed for one sample.
type Outcome string

// The outcomes a probe can expect or observe.
const (
	Success     Outcome = "success"
	Refused     Outcome = "refused"     // TCP RST on connect
	Timeout     Outcome = "timeout"     // no answer within probe_timeout (what a policy drop looks like)
	Unreachable Outcome = "unreachable" // no route / host unreachable
	Reset       Outcome = "reset"       // connection reset or closed after it was established
	NXDomain    Outcome = "nxdomain"    // DNS: the name does not exist
	DNSError    Outcome = "dns-error"   // DNS: SERVFAIL, REFUSED, wrong answer, ...
	Error       Outcome = "error"       // anything else; the entry's error text says what
)

// Endpoint is one side of a probe.
type Endpoint struct {
	Node    string `json:"node,omitempty"`
	Pod     string `json:"pod,omitempty"`
	Address string `json:"address,omitempty"` // IP, URL or DNS name
}

func (e *Endpoint) String() string {
	if e == nil {
		return ""
	}
	var parts []string
	if e.Pod != "" {
		parts = append(parts, e.Pod)
	}
	if e.Node != "" {
		parts = append(parts, "on "+e.Node)
	}
	if e.Address != "" && e.Pod == "" {
		parts = append(parts, e.Address)
	}
	return strings.Join(parts, " ")
}

// Throughput is an iperf3 measurement.
type Throughput struct {
	SentBitsPerSecond     float64 `json:"sent_bits_per_second"`
	ReceivedBitsPerSecond float64 `json:"received_bits_per_second"`
	Retransmits           int     `json:"retransmits"`
	Seconds               float64 `json:"seconds"`
}

// Entry is one health check or probe.
type Entry struct {
	Name        string         `json:"name"`
	Layer       string         `json:"layer"`
	Status      Status         `json:"status"`
	Source      *Endpoint      `json:"source,omitempty"`
	Destination *Endpoint      `json:"destination,omitempty"`
	Expected    string         `json:"expected,omitempty"`
	Observed    string         `json:"observed,omitempty"`
	Samples     int            `json:"samples,omitempty"`
	Latency     *stats.Summary `json:"latency_ms,omitempty"` // curl time_connect, dig query time, ping rtt
	Total       *stats.Summary `json:"total_ms,omitempty"`   // curl time_total
	Throughput  *Throughput    `json:"throughput,omitempty"`
	Details     []string       `json:"details,omitempty"`
	Error       string         `json:"error,omitempty"`
	Reason      string         `json:"reason,omitempty"` // why it was skipped
	Delta       string         `json:"baseline_delta,omitempty"`
}

// Key identifies an entry across runs: layer, name, source node and destination node. Pod names,
// the test namespace and Service addresses change from run to run and are left out; the probe
// name already tells a Service, DNS or external destination apart.
func (e Entry) Key() string {
	k := e.Layer + "|" + e.Name
	if e.Source != nil {
		k += "|" + e.Source.Node
	}
	if e.Destination != nil && e.Destination.Node != "" {
		k += "|" + e.Destination.Node
	}
	return k
}

// Title is the entry's one-line name for messages and JUnit: "pod-to-pod/cross-node: a on n1 → b on n2".
func (e Entry) Title() string {
	switch {
	case e.Source == nil && e.Destination == nil:
		return e.Name
	case e.Destination == nil:
		return fmt.Sprintf("%s: %s", e.Name, e.Source.String())
	}
	return fmt.Sprintf("%s: %s → %s", e.Name, e.Source.String(), e.Destination.String())
}

// Problem is the entry's failure or skip text: for a probe "expected X, observed Y: error", for a
// health check its error.
func (e Entry) Problem() string {
	switch {
	case e.Status == Skipped:
		return e.Reason
	case e.Status != Failed:
		return ""
	case e.Expected == "":
		if e.Error != "" {
			return e.Error
		}
		return e.Observed
	}
	parts := []string{}
	if e.Observed != "" {
		parts = append(parts, fmt.Sprintf("expected %s, observed %s", e.Expected, e.Observed))
	}
	if e.Error != "" {
		parts = append(parts, e.Error)
	}
	return strings.Join(parts, ": ")
}
