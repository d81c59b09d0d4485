// Package stats summarises latency samples the way the connectivity report shows them:
// min, average, p50, p95 and max, in milliseconds.
package stats

import (
	"math"
	"sort"
)

// Summary describes a set of samples (milliseconds).
type Summary struct {
	N   int     `json:"n"`
	Min float64 `json:"min"`
	Avg float64 `json:"avg"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	Max float64 `json:"max"`
}

// Summarize returns the summary of xs, or nil when there are no samples. NaN and infinite values
// are ignored (a tool printed nonsense for that sample).
func Summarize(xs []float64) *Summary {
	var clean []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			clean = append(clean, x)
		}
	}
	if len(clean) == 0 {
		return nil
	}
	sort.Float64s(clean)
	sum := 0.0
	for _, x := range clean {
		sum += x
	}
	return &Summary{
		N:   len(clean),
		Min: round(clean[0]),
		Avg: round(sum / float64(len(clean))),
		P50: round(Percentile(clean, 50)),
		P95: round(Percentile(clean, 95)),
		Max: round(clean[len(clean)-1]),
	}
}

// Percentile returns the p-th percentile (0–100) of sorted samples by linear interpolation between
// the closest ranks (numpy's default, Excel's PERCENTILE.INC): p50 of 1..10 is 5.5, p95 is 9.55.
// With few samples a high percentile lies close to the maximum, which is what a user expects.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return math.NaN()
	case n == 1 || p <= 0:
		return sorted[0]
	case p >= 100:
		return sorted[n-1]
	}
	rank := p / 100 * float64(n-1)
	lo := int(math.Floor(rank))
	frac := rank - float64(lo)
	if lo+1 >= n {
		return sorted[n-1]
	}
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// round keeps microsecond resolution: the tools report no finer than that.
func round(x float64) float64 { return math.Round(x*1000) / 1000 }
