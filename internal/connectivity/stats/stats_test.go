package stats

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	oneToTen := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"median of even count interpolates", oneToTen, 50, 5.5},
		{"p95 of ten samples", oneToTen, 95, 9.55},
		{"p0 is the minimum", oneToTen, 0, 1},
		{"p100 is the maximum", oneToTen, 100, 10},
		{"single sample", []float64{3.2}, 95, 3.2},
		{"median of odd count is the middle", []float64{1, 2, 100}, 50, 2},
		{"p95 of two", []float64{1, 3}, 95, 2.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	// Unsorted on purpose, with an outlier that must show in p95/max but barely move p50.
	got := Summarize([]float64{0.9, 1.1, 1.0, 1.2, 0.8, 1.0, 1.1, 0.9, 1.0, 12.0})
	want := Summary{N: 10, Min: 0.8, Avg: 2.1, P50: 1.0, P95: 7.14, Max: 12.0}
	if got == nil || *got != want {
		t.Fatalf("Summarize = %+v, want %+v", got, want)
	}
	if Summarize(nil) != nil {
		t.Error("Summarize(nil) should be nil: no samples, no statistics")
	}
	if s := Summarize([]float64{math.NaN(), 2, math.Inf(1)}); s == nil || s.N != 1 || s.Max != 2 {
		t.Errorf("NaN/Inf samples must be ignored, got %+v", s)
	}
}
