package state

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TimeFormat is how timestamps are stored: RFC 3339, UTC, millisecond precision.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// ConfigMap data keys.
const (
	keyStrategy = "strategy"
	keyPhase    = "phase"
	keyPhases   = "phases.json"
	keyNodes    = "nodes.json"
	keyData     = "data.json"
)

// Phase is one step of the migration (or of one node's migration) and when it ran.
type Phase struct {
	Name        string `json:"name"`
	StartedAt   string `json:"started_at,omitempty"`
	CompletedAt string `json:"completed_at,omitempty"`
	Attempts    int    `json:"attempts"`
}

// Done reports whether the phase completed.
func (p Phase) Done() bool { return p.CompletedAt != "" }

// Progress is an ordered list of phases and the last one completed.
type Progress struct {
	Phase  string  `json:"phase,omitempty"`
	Phases []Phase `json:"phases,omitempty"`
	// CordonedBefore (nodes only) is whether the operator had cordoned the node before the
	// migration first cordoned it; nil until recorded. See Cordons.
	CordonedBefore *bool `json:"cordoned_before,omitempty"`
}

// find returns the index of the named phase, or -1.
func (p *Progress) find(name string) int {
	for i := range p.Phases {
		if p.Phases[i].Name == name {
			return i
		}
	}
	return -1
}

// Record is the whole migration state as stored in the ConfigMap.
type Record struct {
	Strategy string               `json:"strategy,omitempty"`
	Progress                      // cluster-wide phases
	Nodes    map[string]*Progress `json:"nodes,omitempty"`
	Data     map[string]any       `json:"data,omitempty"`
}

// clone deep-copies a record through JSON (the record is JSON by nature).
func (r *Record) clone() *Record {
	out := &Record{}
	if r == nil {
		return out
	}
	b, _ := json.Marshal(r)
	_ = json.Unmarshal(b, out)
	return out
}

// decode reads a record from ConfigMap data; a key that does not parse is an error naming it.
func decode(cm *corev1.ConfigMap) (*Record, error) {
	r := &Record{Strategy: cm.Data[keyStrategy]}
	r.Phase = cm.Data[keyPhase]
	for key, into := range map[string]any{keyPhases: &r.Phases, keyNodes: &r.Nodes, keyData: &r.Data} {
		raw, ok := cm.Data[key]
		if !ok || raw == "" {
			continue
		}
		if err := json.Unmarshal([]byte(raw), into); err != nil {
			return nil, fmt.Errorf("ConfigMap %s/%s key %s is not valid JSON (%v): repair it or reset with state=absent",
				cm.Namespace, cm.Name, key, err)
		}
	}
	for name, p := range r.Nodes {
		if p == nil { // stored as null: a node with no progress recorded
			r.Nodes[name] = &Progress{}
		}
	}
	return r, nil
}

// encode renders a record as ConfigMap data. Maps marshal with sorted keys, so equal records give
// equal data.
func encode(r *Record) (map[string]string, error) {
	data := map[string]string{}
	if r.Strategy != "" {
		data[keyStrategy] = r.Strategy
	}
	if r.Phase != "" {
		data[keyPhase] = r.Phase
	}
	for key, v := range map[string]any{keyPhases: r.Phases, keyNodes: r.Nodes, keyData: r.Data} {
		if isEmpty(v) {
			continue
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", key, err)
		}
		data[key] = string(b)
	}
	return data, nil
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case []Phase:
		return len(x) == 0
	case map[string]*Progress:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return v == nil
}

// PhaseView is a phase as the module returns it: with its duration when both ends are known.
type PhaseView struct {
	Phase
	DurationSeconds *float64 `json:"duration_seconds"`
}

// ProgressView is a Progress as returned: phases with durations, and the completed names (what a
// playbook tests with `'backup' in state.completed`).
type ProgressView struct {
	Phase     string      `json:"phase"`
	Phases    []PhaseView `json:"phases"`
	Completed []string    `json:"completed"`
	// CordonedBefore: nodes only, once recorded.
	CordonedBefore *bool `json:"cordoned_before,omitempty"`
}

// View is the record as the module returns it.
type View struct {
	Exists   bool   `json:"exists"`
	Strategy string `json:"strategy"`
	ProgressView
	StartedAt    string                  `json:"started_at"`
	TotalSeconds *float64                `json:"total_seconds"`
	Nodes        map[string]ProgressView `json:"nodes"`
	Data         map[string]any          `json:"data"`
}

// NewView renders a record (nil: no state recorded yet).
func NewView(r *Record) View {
	v := View{Exists: r != nil, Nodes: map[string]ProgressView{}, Data: map[string]any{}}
	if r == nil {
		v.ProgressView = viewOf(Progress{})
		return v
	}
	v.Strategy = r.Strategy
	v.ProgressView = viewOf(r.Progress)
	for name, p := range r.Nodes {
		v.Nodes[name] = viewOf(*p)
	}
	for k, d := range r.Data {
		v.Data[k] = d
	}
	v.StartedAt, v.TotalSeconds = span(r.Phases)
	return v
}

func viewOf(p Progress) ProgressView {
	out := ProgressView{Phase: p.Phase, Phases: []PhaseView{}, Completed: []string{}, CordonedBefore: p.CordonedBefore}
	for _, ph := range p.Phases {
		out.Phases = append(out.Phases, PhaseView{Phase: ph, DurationSeconds: seconds(ph.StartedAt, ph.CompletedAt)})
		if ph.Done() {
			out.Completed = append(out.Completed, ph.Name)
		}
	}
	return out
}

// span returns the first start and the seconds from it to the last completion.
func span(phases []Phase) (string, *float64) {
	var first, last string
	for _, ph := range phases {
		if ph.StartedAt != "" && (first == "" || ph.StartedAt < first) {
			first = ph.StartedAt
		}
		if ph.CompletedAt > last {
			last = ph.CompletedAt
		}
	}
	return first, seconds(first, last)
}

func seconds(from, to string) *float64 {
	a, errA := time.Parse(TimeFormat, from)
	b, errB := time.Parse(TimeFormat, to)
	if errA != nil || errB != nil || from == "" || to == "" {
		return nil
	}
	s := b.Sub(a).Seconds()
	return &s
}

func sortStrings(s []string) { sort.Strings(s) }
