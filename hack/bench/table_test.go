package main

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestRatio(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ours, anchor float64
		want         string
	}{
		{1, 2, "0.50×"},
		{30, 2, "15×"},
		{1, 200, "0.005×"},
		{1, 0, "—"},
		{0, 1, "—"},
	} {
		if got := ratio(tt.ours, tt.anchor); got != tt.want {
			t.Errorf("ratio(%v, %v) = %q, want %q", tt.ours, tt.anchor, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

// Cells may hold '|' (task names do); the table must keep five columns per row.
func TestMarkdownEscapes(t *testing.T) {
	t.Parallel()
	tb := newTable("s1", "s2")
	tb.add("s2", row{what: "a | b", ours: "1 s", anchor: "2 s", ratio: "0.50×", note: "x\ny"})
	var b bytes.Buffer
	tb.markdown(&b, []string{"# h"})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	last := lines[len(lines)-1]
	if strings.Count(strings.ReplaceAll(last, `\|`, ""), "|") != 6 || strings.Contains(b.String(), "**s1**") {
		t.Errorf("table:\n%s", b.String())
	}
}

// The per-task playbook's task names carry " #<n>", which YAML would read as a comment unquoted.
func TestOverheadPlaybookNames(t *testing.T) {
	t.Parallel()
	var plays []struct {
		Hosts string
		Tasks []map[string]any
	}
	if err := yaml.Unmarshal([]byte(overheadPlaybook("k3s-server-0", 2)), &plays); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, task := range plays[0].Tasks {
		names = append(names, task["name"].(string))
	}
	want := "warm-up,command #1,migration_state #1,cni_node_cleanup #1,command #2,migration_state #2,cni_node_cleanup #2"
	if plays[0].Hosts != "k3s-server-0" || strings.Join(names, ",") != want {
		t.Errorf("hosts %q, tasks %q; want %q", plays[0].Hosts, names, want)
	}
}

func TestLastJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"changed": true}`:                         `{"changed": true}`,
		"[WARNING]: something\n{\"changed\": true}": `{"changed": true}`,
	} {
		if got := string(lastJSON([]byte(in))); got != want {
			t.Errorf("lastJSON(%q) = %q, want %q", in, got, want)
		}
	}
}
