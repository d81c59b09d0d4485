package lab

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestKwokStages(t *testing.T) {
	t.Parallel()
	if none, err := kwokStages(t.Context(), t.TempDir(), 0); err != nil || none != nil {
		t.Fatalf("delay 0: want no stages (kwokctl's defaults), got %q, %v", none, err)
	}
	data, err := kwokStages(t.Context(), t.TempDir(), 4*time.Second)
	if err != nil {
		t.Skipf("kwok's module is not in the module cache and cannot be downloaded: %v", err)
	}
	type delay struct {
		Duration *int64 `json:"durationMilliseconds"`
		Jitter   *int64 `json:"jitterDurationMilliseconds"`
	}
	got := map[string]delay{}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var s struct {
			Kind     string
			Metadata struct{ Name string }
			Spec     struct{ Delay delay }
		}
		if err := yaml.Unmarshal([]byte(strings.TrimPrefix(doc, "---\n")), &s); err != nil || s.Kind != "Stage" {
			t.Fatalf("not a Stage (%v):\n%s", err, doc)
		}
		got[s.Metadata.Name] = s.Spec.Delay
	}
	ms := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	tests := []struct {
		stage            string
		duration, jitter int64 // -1: unset
	}{
		{"pod-create", 1000, 3000},
		{"pod-ready", 1000, 3000},
		{"pod-delete", 1000, -1}, // kwok's own: 1 s, or the end of the grace period if sooner
		{"node-initialize", -1, -1},
		{"node-heartbeat-with-lease", 600000, 610000},
	}
	for _, tt := range tests {
		d, ok := got[tt.stage]
		if !ok {
			t.Errorf("stage %s missing (have %v)", tt.stage, got)
			continue
		}
		if ms(d.Duration) != tt.duration || ms(d.Jitter) != tt.jitter {
			t.Errorf("stage %s delay = %d..%d ms, want %d..%d", tt.stage, ms(d.Duration), ms(d.Jitter), tt.duration, tt.jitter)
		}
	}
	if len(got) != len(kwokStageFiles) {
		t.Errorf("%d stages, want %d", len(got), len(kwokStageFiles))
	}
}

func TestConfigPodStartDelay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		delay time.Duration
		ok    bool
	}{{0, true}, {3 * time.Second, true}, {-time.Second, false}, {time.Hour, false}} {
		c := Defaults()
		c.PodStartDelay = tt.delay
		_, err := c.complete()
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "pod start delay")) {
			t.Errorf("PodStartDelay %s: err = %v, want ok=%v", tt.delay, err, tt.ok)
		}
	}
}
