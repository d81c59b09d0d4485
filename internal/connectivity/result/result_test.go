package result

import "testing"

func TestSummaryLine(t *testing.T) {
	t.Parallel()
	entries := func(passed, failed, skipped int) []Entry {
		var out []Entry
		for i := 0; i < passed; i++ {
			out = append(out, Entry{Status: Passed})
		}
		for i := 0; i < failed; i++ {
			out = append(out, Entry{Status: Failed})
		}
		for i := 0; i < skipped; i++ {
			out = append(out, Entry{Status: Skipped, Reason: "r"})
		}
		return out
	}
	tests := []struct {
		name   string
		report Report
		want   string
	}{
		{"probes as in the issue", Report{Probes: entries(23, 1, 2)},
			"23/24 probes passed, 1 failed, 2 skipped"},
		{"both layers", Report{Checks: entries(6, 0, 0), Probes: entries(0, 0, 8)},
			"6/6 health checks passed, 0 failed, 0 skipped; 0/0 probes passed, 0 failed, 8 skipped"},
		{"nothing", Report{}, "nothing was checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.report
			r.Finish()
			if r.Summary != tt.want {
				t.Errorf("summary = %q, want %q", r.Summary, tt.want)
			}
		})
	}
}

func TestKeyIgnoresPodNames(t *testing.T) {
	t.Parallel()
	a := Entry{Layer: LayerProbes, Name: "pod-to-pod/cross-node",
		Source: &Endpoint{Node: "n1", Pod: "client-abc"}, Destination: &Endpoint{Node: "n2", Pod: "echo-x"}}
	b := a
	b.Source = &Endpoint{Node: "n1", Pod: "client-zzz"}
	b.Destination = &Endpoint{Node: "n2", Pod: "echo-y"}
	if a.Key() != b.Key() {
		t.Errorf("keys differ across runs: %q vs %q", a.Key(), b.Key())
	}
	c := a
	c.Destination = &Endpoint{Node: "n3"}
	if a.Key() == c.Key() {
		t.Errorf("different destination nodes share key %q", a.Key())
	}
}
