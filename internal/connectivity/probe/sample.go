package probe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/connectivity/stats"
)

// Sample is one measurement as a tool reported it.
type Sample struct {
	Outcome result.Outcome
	// LatencyMs is curl's time_connect, dig's query time or ping's rtt; 0 with HasLatency false
	// when the tool measured nothing (failed sample).
	LatencyMs  float64
	HasLatency bool
	// TotalMs is curl's time_total.
	TotalMs float64
	// Detail is what came back: "HTTP 200", "A 10.43.0.10".
	Detail string
	Err    string
}

// Expectation is the set of outcomes a probe accepts, declared before it runs.
type Expectation []result.Outcome

// The expectations probes declare.
var (
	ExpectSuccess = Expectation{result.Success}
	// ExpectBlocked is a NetworkPolicy deny: CNIs drop (timeout); some reject (refused).
	ExpectBlocked = Expectation{result.Timeout, result.Refused}
)

func (e Expectation) String() string {
	s := make([]string, len(e))
	for i, o := range e {
		s[i] = string(o)
	}
	return strings.Join(s, " or ")
}

// Accepts reports whether o is one of the expected outcomes.
func (e Expectation) Accepts(o result.Outcome) bool {
	for _, x := range e {
		if x == o {
			return true
		}
	}
	return false
}

// Verdict is the judgement of a probe's samples.
type Verdict struct {
	Status   result.Status
	Observed string
	Error    string
	Latency  *stats.Summary
	Total    *stats.Summary
}

// Judge passes a probe when every sample's outcome is expected. Observed counts the outcomes
// ("8/10 success, 2 timeout"); Error quotes the distinct errors of the unexpected samples.
func Judge(exp Expectation, samples []Sample) Verdict {
	if len(samples) == 0 {
		return Verdict{Status: result.Failed, Observed: "no samples", Error: "the tool printed no result"}
	}
	counts := map[result.Outcome]int{}
	var lat, total []float64
	var errs []string
	seen := map[string]bool{}
	bad := 0
	for _, s := range samples {
		counts[s.Outcome]++
		if s.Outcome == result.Success && s.HasLatency {
			lat = append(lat, s.LatencyMs)
			if s.TotalMs > 0 {
				total = append(total, s.TotalMs)
			}
		}
		if exp.Accepts(s.Outcome) {
			continue
		}
		bad++
		msg := s.Err
		if msg == "" {
			msg = fmt.Sprintf("%s (%s)", s.Outcome, s.Detail)
		}
		if !seen[msg] && len(errs) < 3 {
			seen[msg] = true
			errs = append(errs, msg)
		}
	}
	v := Verdict{Status: result.Passed, Observed: observed(counts, len(samples)),
		Latency: stats.Summarize(lat), Total: stats.Summarize(total)}
	if bad > 0 {
		v.Status = result.Failed
		v.Error = fmt.Sprintf("%d/%d samples unexpected: %s", bad, len(samples), strings.Join(errs, "; "))
	}
	return v
}

// observed renders outcome counts, the most frequent first: "10/10 success", "8/10 success, 2 timeout".
func observed(counts map[result.Outcome]int, n int) string {
	type oc struct {
		o result.Outcome
		c int
	}
	var list []oc
	for o, c := range counts {
		list = append(list, oc{o, c})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].c != list[j].c {
			return list[i].c > list[j].c
		}
		return list[i].o < list[j].o
	})
	parts := make([]string, len(list))
	for i, x := range list {
		if i == 0 {
			parts[i] = fmt.Sprintf("%d/%d %s", x.c, n, x.o)
		} else {
			parts[i] = fmt.Sprintf("%d %s", x.c, x.o)
		}
	}
	return strings.Join(parts, ", ")
}
