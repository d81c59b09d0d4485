package restart

import (
	"fmt"

	"k8s.io/apimachinery/pkg/types"
)

// Ref names a workload (or, with Kind "Pod", a pod).
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (r Ref) String() string { return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name) }

// Actions a plan step takes.
const (
	// ActionRestart sets the restartedAt pod-template annotation, as `kubectl rollout restart`.
	ActionRestart = "restart"
	// ActionEvict evicts the pods one at a time through the Eviction API (PDBs honoured).
	ActionEvict = "evict"
	// ActionWait waits for a restart an earlier (interrupted) run already requested.
	ActionWait = "wait"
)

// Outcomes of a step.
const (
	OutcomePlanned    = "planned"     // check mode
	OutcomeRolledOut  = "rolled_out"  // restarted and waited for: complete (and managed, for unmanaged)
	OutcomeTriggered  = "triggered"   // restarted, not waited for (wait: false)
	OutcomeFailed     = "failed"      // see the reason and what was observed
	OutcomeNotStarted = "not_started" // the run stopped (timeout, interrupt, DNS failure) first
)

// Bare pod actions and outcomes.
const (
	BareReported = "reported"
	BareEvicted  = "evicted"
)

// Step is one planned restart.
type Step struct {
	Ref
	Action string `json:"action"`
	Reason string `json:"reason"`
	// DNS marks the cluster DNS (kube-system, k8s-app=kube-dns): restarted first and waited on.
	DNS  bool `json:"dns,omitempty"`
	Pods int  `json:"pods"`
	// Evict names the pods an evict step recreates.
	Evict []string `json:"evict,omitempty"`

	w      *workload
	oldest []podID // the pods that needed recreating when planned
}

// Skip is a workload (or a group of pods owned by another controller) left alone, with the reason.
type Skip struct {
	Ref
	Reason string `json:"reason"`
}

// BarePod is a pod no controller owns: recreating it would lose it, so it is reported, or evicted
// when bare_pods is delete. The same shape lists the pods of controllers this module does not
// restart (Jobs, operators' custom controllers): reported, or evicted (their controller recreates
// them) when other_pods is evict; Owner names that controller.
type BarePod struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Owner     string `json:"owner,omitempty"` // Kind/name of the controller (other pods only)
	Reason    string `json:"reason"`
	Action    string `json:"action"`            // report | evict
	Outcome   string `json:"outcome,omitempty"` // reported | evicted | failed | planned | not_started
	Message   string `json:"message,omitempty"`
	PDB       string `json:"pdb,omitempty"`

	uid     types.UID
	changed bool // the eviction went through
}

// Plan is what a run intends to do; check mode returns it unchanged.
type Plan struct {
	Steps    []Step    `json:"steps"`
	Skipped  []Skip    `json:"skipped"`
	BarePods []BarePod `json:"bare_pods"`
	// OtherPods are the pods of controllers this module does not restart that need recreating.
	OtherPods []BarePod `json:"other_pods"`
	// Managed says how "managed by the target CNI" was decided (strategy unmanaged).
	Managed     string   `json:"managed_by,omitempty"`
	TargetCIDRs []string `json:"target_cidrs,omitempty"`
	Warnings    []string `json:"-"`
}

// Result is what happened to one step.
type Result struct {
	Ref
	Action string `json:"action"`
	Reason string `json:"reason"`
	// Order is the position in which the step was started (1 = first); 0 when never started.
	Order           int     `json:"order"`
	Outcome         string  `json:"outcome"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Message says why a step failed or was not started.
	Message string `json:"message,omitempty"`
	// Observed is what the cluster showed when the step failed ("1/2 ready; new pods Pending: ...").
	Observed string `json:"observed,omitempty"`
	// PDB names the PodDisruptionBudget that refused an eviction.
	PDB string `json:"pdb,omitempty"`

	changed bool // a patch or an eviction went through
}

// Failure is one entry of the report's failures: a workload or a bare pod.
type Failure struct {
	Ref
	Reason   string `json:"reason"`
	Observed string `json:"observed,omitempty"`
	PDB      string `json:"pdb,omitempty"`
}

// Totals are the counts of a report.
type Totals struct {
	Planned    int `json:"planned"`
	Restarted  int `json:"restarted"`
	Resumed    int `json:"resumed"` // an earlier run's restart, waited for
	Failed     int `json:"failed"`
	NotStarted int `json:"not_started"`
	Skipped    int `json:"skipped"`
	BarePods   int `json:"bare_pods"`
	OtherPods  int `json:"other_pods"`
}

// Report is the outcome of a run (or, in check mode, the plan with every outcome "planned").
type Report struct {
	Workloads       []Result  `json:"workloads"`
	Skipped         []Skip    `json:"skipped"`
	BarePods        []BarePod `json:"bare_pods"`
	OtherPods       []BarePod `json:"other_pods"`
	Failures        []Failure `json:"failures"`
	Totals          Totals    `json:"totals"`
	Managed         string    `json:"managed_by,omitempty"`
	TargetCIDRs     []string  `json:"target_cidrs,omitempty"`
	DurationSeconds float64   `json:"duration_seconds"`
	// Changed is true when anything was restarted or evicted (or, in check mode, would be).
	Changed  bool     `json:"-"`
	Warnings []string `json:"-"`
}
