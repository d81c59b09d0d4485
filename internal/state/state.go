package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8swait "k8s.io/apimachinery/pkg/util/wait"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/retry"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// The values of Parameters.State and Parameters.PhaseStatus.
const (
	StateGet    = "get"
	StateSet    = "set"
	StateAbsent = "absent"
	// StateLocked and StateUnlocked take (or renew) and release the migration's lock (see Lock).
	StateLocked   = "locked"
	StateUnlocked = "unlocked"

	PhaseStarted   = "started"
	PhaseCompleted = "completed"
)

// Parameters say what to do with the migration state.
type Parameters struct {
	State       string         // get | set | absent
	Phase       string         // phase to record (set)
	PhaseStatus string         // started | completed (default completed)
	Strategy    string         // recorded once; a different strategy later is refused
	Data        map[string]any // merged into the stored data; a null value removes the key
	Node        string         // record Phase for this node instead of the cluster; absent: forget the node
	Namespace   string
	Name        string
	Now         func() time.Time // clock (tests); default time.Now
	CheckMode   bool             // plan only: change nothing, report what would change
}

// Outcome is what a run found and did (or, in check mode, would do).
type Outcome struct {
	Before *Record // nil: no ConfigMap
	After  *Record // nil: no ConfigMap afterwards
	Plan   []string
}

// Changed reports whether the plan is not empty.
func (o *Outcome) Changed() bool { return len(o.Plan) > 0 }

// Ref names the ConfigMap ("kube-system/cnimigrate-state").
func (p Parameters) Ref() string { return p.Namespace + "/" + p.Name }

func (p *Parameters) setDefaults() {
	if p.Namespace == "" {
		p.Namespace = defaults.MigrationStateNamespace
	}
	if p.Name == "" {
		p.Name = defaults.MigrationStateConfigMap
	}
	if p.State == "" {
		p.State = StateGet
	}
	if p.PhaseStatus == "" {
		p.PhaseStatus = PhaseCompleted
	}
	if p.Now == nil {
		p.Now = time.Now
	}
}

func (p Parameters) validate() error {
	switch p.State {
	case StateGet, StateAbsent:
	case StateSet:
		if p.Phase == "" && p.Strategy == "" && len(p.Data) == 0 {
			return errors.New("state=set needs at least one of phase, strategy or data")
		}
		if p.Node != "" && p.Phase == "" {
			return errors.New("node is given without phase: say which phase the node reached")
		}
	default:
		return fmt.Errorf("value of state must be one of: get, set, absent, got: %s", p.State)
	}
	if p.PhaseStatus != PhaseStarted && p.PhaseStatus != PhaseCompleted {
		return fmt.Errorf("value of phase_status must be one of: started, completed, got: %s", p.PhaseStatus)
	}
	return nil
}

// conflictBackoff paces re-reads after a conflicting write. client-go's DefaultRetry (5 tries,
// 10 ms apart) lost writers when six nodes recorded their phase at once on a busy API server;
// jittered, growing waits let every writer land within a few seconds.
var conflictBackoff = k8swait.Backoff{Steps: 20, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1, Cap: 2 * time.Second}

// Run reads the state and, for set/absent, plans the change and applies it unless p.CheckMode.
// Concurrent writers are handled with optimistic concurrency (retry on conflict, re-planning).
func Run(ctx context.Context, cms corev1client.ConfigMapsGetter, p Parameters) (*Outcome, error) {
	p.setDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	var out *Outcome
	err := retry.RetryOnConflict(conflictBackoff, func() error {
		cm, err := cms.ConfigMaps(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("read migration state ConfigMap %s: %w", p.Ref(), err)
		}
		if out, err = plan(cm, p); err != nil || p.CheckMode || !out.Changed() {
			return err
		}
		return write(ctx, cms, cm, out.After, p)
	})
	return out, err
}

// plan computes the record after the change and the list of changes.
func plan(cm *corev1.ConfigMap, p Parameters) (*Outcome, error) {
	out := &Outcome{}
	if cm != nil {
		before, err := decode(cm)
		if err != nil {
			return nil, err
		}
		out.Before = before
	}
	switch p.State {
	case StateGet:
		out.After = out.Before
	case StateAbsent:
		planAbsent(out, p)
	case StateSet:
		if err := planSet(out, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func planAbsent(out *Outcome, p Parameters) {
	if out.Before == nil {
		return
	}
	if p.Node == "" {
		out.Plan = append(out.Plan, "delete ConfigMap "+p.Ref())
		return
	}
	out.After = out.Before.clone()
	if _, ok := out.After.Nodes[p.Node]; ok {
		delete(out.After.Nodes, p.Node)
		out.Plan = append(out.Plan, fmt.Sprintf("forget the progress of node %s", p.Node))
	}
}

func planSet(out *Outcome, p Parameters) error {
	after := out.Before.clone()
	if out.Before == nil {
		out.Plan = append(out.Plan, "create ConfigMap "+p.Ref())
	}
	if p.Strategy != "" && after.Strategy != p.Strategy {
		if after.Strategy != "" {
			return fmt.Errorf("the migration recorded in %s uses strategy %s (phase reached: %q); it cannot continue as %s: "+
				"re-run with strategy %s, or reset the state with state=absent once the cluster is consistent",
				p.Ref(), after.Strategy, after.Phase, p.Strategy, after.Strategy)
		}
		after.Strategy = p.Strategy
		out.Plan = append(out.Plan, "record strategy "+p.Strategy)
	}
	if p.Phase != "" {
		prog, who := &after.Progress, ""
		if p.Node != "" {
			if after.Nodes == nil {
				after.Nodes = map[string]*Progress{}
			}
			if after.Nodes[p.Node] == nil {
				after.Nodes[p.Node] = &Progress{}
			}
			prog, who = after.Nodes[p.Node], "node "+p.Node+": "
		}
		if change := mark(prog, p.Phase, p.PhaseStatus, p.Now().UTC().Format(TimeFormat)); change != "" {
			out.Plan = append(out.Plan, who+change)
		}
	}
	changes, err := mergeData(after, p.Data)
	if err != nil {
		return err
	}
	out.Plan = append(out.Plan, changes...)
	out.After = after
	return nil
}

// mark records a phase start or completion and describes the change ("" when there is none):
// a completed phase is never reopened, so re-running a finished migration changes nothing.
func mark(prog *Progress, name, status, now string) string {
	i := prog.find(name)
	if i >= 0 && prog.Phases[i].Done() {
		return ""
	}
	if i < 0 {
		prog.Phases = append(prog.Phases, Phase{Name: name})
		i = len(prog.Phases) - 1
	}
	ph := &prog.Phases[i]
	if status == PhaseStarted {
		ph.StartedAt = now
		ph.Attempts++
		if ph.Attempts > 1 {
			return fmt.Sprintf("start phase %s again (attempt %d)", name, ph.Attempts)
		}
		return "start phase " + name
	}
	if ph.StartedAt == "" {
		ph.StartedAt, ph.Attempts = now, 1
	}
	ph.CompletedAt = now
	prog.Phase = name
	return "complete phase " + name
}

// mergeData merges data into the record at the top level; null removes a key.
func mergeData(r *Record, data map[string]any) ([]string, error) {
	if len(data) == 0 {
		return nil, nil
	}
	// Round-trip through JSON so that given values compare equal to stored ones (int64 vs float64).
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("data is not representable as JSON: %w", err)
	}
	var norm map[string]any
	if err := json.Unmarshal(b, &norm); err != nil {
		return nil, fmt.Errorf("data is not representable as JSON: %w", err)
	}
	if r.Data == nil {
		r.Data = map[string]any{}
	}
	var plan []string
	for _, k := range sortedKeys(norm) {
		v := norm[k]
		old, had := r.Data[k]
		switch {
		case v == nil && had:
			delete(r.Data, k)
			plan = append(plan, "remove data key "+k)
		case v != nil && (!had || !reflect.DeepEqual(old, v)):
			r.Data[k] = v
			plan = append(plan, "set data key "+k)
		}
	}
	return plan, nil
}
