package restart

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Strategies: which workloads need their pods recreated.
const (
	// StrategyUnmanaged restarts workloads with at least one pod not yet managed by the target CNI.
	StrategyUnmanaged = "unmanaged"
	// StrategyAll restarts every workload in scope.
	StrategyAll = "all"
	// StrategyCreatedBefore restarts workloads with at least one pod created before a timestamp.
	StrategyCreatedBefore = "created_before"
)

// Workload kinds.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
	KindDaemonSet   = "DaemonSet"
)

// What to do with pods that no controller owns.
const (
	BarePodsReport = "report"
	BarePodsDelete = "delete"
	// OtherPodsReport lists the pods of controllers this module does not restart (Jobs, custom
	// controllers); OtherPodsEvict evicts them (PDBs honoured) so that their controller recreates them.
	OtherPodsReport = "report"
	OtherPodsEvict  = "evict"
)

// TargetCilium is the only target CNI so far.
const TargetCilium = "cilium"

// Kinds lists the workload kinds in the order they are reported.
var Kinds = []string{KindDeployment, KindStatefulSet, KindDaemonSet}

// Strategies and BarePodsModes list the accepted values (the module's choices).
var (
	Strategies     = []string{StrategyUnmanaged, StrategyAll, StrategyCreatedBefore}
	BarePodsModes  = []string{BarePodsReport, BarePodsDelete}
	OtherPodsModes = []string{OtherPodsReport, OtherPodsEvict}
	TargetCNIs     = []string{TargetCilium}
)

// Parameters select the workloads and say how to restart them. Start from Defaults().
type Parameters struct {
	Namespaces        []string // empty: every namespace
	ExcludeNamespaces []string
	Kinds             []string // nil: every kind; empty but not nil: none (only bare and other pods)
	LabelSelector     string   // applies to workloads (and to bare pods' own labels)
	Strategy          string
	CreatedBefore     string // RFC 3339; required by (and only used with) StrategyCreatedBefore
	TargetCNI         string
	TargetCIDRs       []string // empty: discovered from the target CNI's configuration
	BarePods          string
	OtherPods         string
	Parallelism       int
	Timeout           time.Duration // per workload: restart, evictions and the wait
	TotalTimeout      time.Duration // whole run
	Wait              bool
	// Progress, when set, is called (never concurrently) as each workload starts and finishes.
	Progress func(Event)
}

// Event reports progress on one workload.
type Event struct {
	Ref
	Phase   string // "start" or "done"
	Outcome string // set on "done"
	Time    time.Time
}

// Defaults returns the parameters the module uses when an option is not given.
func Defaults() Parameters {
	return Parameters{
		Kinds:        slices.Clone(Kinds),
		Strategy:     StrategyUnmanaged,
		TargetCNI:    TargetCilium,
		BarePods:     BarePodsReport,
		OtherPods:    OtherPodsReport,
		Parallelism:  defaults.RestartParallelism,
		Timeout:      defaults.RestartTimeout,
		TotalTimeout: defaults.RestartTotalTimeout,
		Wait:         true,
	}
}

// config is the validated, parsed form of Parameters.
type config struct {
	Parameters
	selector   labels.Selector
	cutoff     time.Time
	cidrs      []netip.Prefix
	kinds      map[string]bool
	namespaces []string // explicit namespaces minus excluded ones; nil = all
	excluded   map[string]bool
}

// Validate checks the parameters without talking to the cluster and returns every problem at once.
func (p Parameters) Validate() error {
	_, err := p.parse()
	return err
}

func (p Parameters) parse() (*config, error) {
	c := &config{Parameters: p, kinds: map[string]bool{}, excluded: map[string]bool{}}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	kinds := p.Kinds
	if kinds == nil {
		kinds = Kinds
	}
	for _, k := range kinds {
		if !slices.Contains(Kinds, k) {
			bad("unknown kind %q: kinds must be among %s", k, strings.Join(Kinds, ", "))
		}
		c.kinds[k] = true
	}
	sel, err := labels.Parse(p.LabelSelector)
	if err != nil {
		bad("label_selector %q is malformed: %v", p.LabelSelector, err)
	}
	c.selector = sel
	c.parseStrategy(bad)
	if !slices.Contains(OtherPodsModes, p.OtherPods) {
		bad("other_pods must be one of %s, got %q", strings.Join(OtherPodsModes, ", "), p.OtherPods)
	}
	if !slices.Contains(BarePodsModes, p.BarePods) {
		bad("bare_pods must be one of %s, got %q", strings.Join(BarePodsModes, ", "), p.BarePods)
	}
	if !slices.Contains(TargetCNIs, p.TargetCNI) {
		bad("target_cni must be one of %s, got %q", strings.Join(TargetCNIs, ", "), p.TargetCNI)
	}
	for _, s := range p.TargetCIDRs {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			bad("target_cidrs: %q is not a CIDR: %v", s, err)
			continue
		}
		c.cidrs = append(c.cidrs, pfx.Masked())
	}
	if p.Parallelism < 1 {
		bad("parallelism must be at least 1, got %d", p.Parallelism)
	}
	if p.Timeout <= 0 {
		bad("timeout must be positive, got %s", p.Timeout)
	}
	if p.TotalTimeout <= 0 {
		bad("total_timeout must be positive, got %s", p.TotalTimeout)
	}
	c.parseNamespaces(bad)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (c *config) parseStrategy(bad func(string, ...any)) {
	switch c.Strategy {
	case StrategyUnmanaged, StrategyAll:
		if c.CreatedBefore != "" {
			bad("created_before is only used with strategy %s (strategy is %s)", StrategyCreatedBefore, c.Strategy)
		}
	case StrategyCreatedBefore:
		if c.CreatedBefore == "" {
			bad("strategy is %s but created_before is missing: give an RFC 3339 timestamp such as 2026-01-31T12:00:00Z", StrategyCreatedBefore)
			return
		}
		t, err := time.Parse(time.RFC3339, c.CreatedBefore)
		if err != nil {
			bad("created_before %q is not an RFC 3339 timestamp (such as 2026-01-31T12:00:00Z): %v", c.CreatedBefore, err)
		}
		c.cutoff = t
	default:
		bad("strategy must be one of %s, got %q", strings.Join(Strategies, ", "), c.Strategy)
	}
}

func (c *config) parseNamespaces(bad func(string, ...any)) {
	for _, ns := range c.ExcludeNamespaces {
		c.excluded[ns] = true
	}
	for _, ns := range c.Namespaces {
		if ns == "" {
			bad("namespaces: empty namespace name")
			continue
		}
		if !c.excluded[ns] && !slices.Contains(c.namespaces, ns) {
			c.namespaces = append(c.namespaces, ns)
		}
	}
	if len(c.Namespaces) > 0 && c.namespaces == nil {
		c.namespaces = []string{} // every listed namespace is excluded: nothing is in scope
	}
}

// allNamespaces reports whether the run covers the whole cluster (no namespaces given).
func (c *config) allNamespaces() bool { return len(c.Namespaces) == 0 }

// inScope reports whether a namespace is in scope and, if not, why.
func (c *config) inScope(ns string) bool {
	if c.excluded[ns] {
		return false
	}
	return c.allNamespaces() || slices.Contains(c.namespaces, ns)
}
