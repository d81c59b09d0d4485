package nodemigrate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// The node states a step brings a node to.
const (
	Cordoned       = "cordoned"
	Drained        = "drained"
	Labeled        = "labeled"
	AgentRestarted = "agent_restarted"
	Uncordoned     = "uncordoned"
)

// What drain does with pods no controller would recreate.
const (
	BareFail  = "fail"
	BareSkip  = "skip"
	BareEvict = "evict"
)

// Parameters describe one step on one node.
type Parameters struct {
	Node           string
	State          string
	Timeout        time.Duration     // bounds drain and the agent restart wait
	Labels         map[string]string // labeled: labels to set (default: the migration label)
	AgentNamespace string
	AgentSelector  string
	BarePods       string // fail | skip | evict
	// Cordons keeps each node's cordon from before the migration (nil: none is kept, and
	// uncordoned always uncordons).
	Cordons CordonRecord
	// RetryInitial and RetryMax pace the drain's retries of an eviction a PodDisruptionBudget or a
	// transient API error refused: the wait doubles from RetryInitial up to RetryMax.
	RetryInitial, RetryMax time.Duration
	CheckMode              bool // plan only: change nothing, report what would change
}

func (p *Parameters) setDefaults() {
	if p.Timeout <= 0 {
		p.Timeout = defaults.NodeStepTimeout
	}
	if len(p.Labels) == 0 {
		p.Labels = map[string]string{defaults.CiliumMigrationLabel: "true"}
	}
	if p.AgentNamespace == "" {
		p.AgentNamespace = defaults.CiliumNamespace
	}
	if p.AgentSelector == "" {
		p.AgentSelector = defaults.CiliumAgentSelector
	}
	if p.BarePods == "" {
		p.BarePods = BareFail
	}
	if p.RetryInitial <= 0 {
		p.RetryInitial = defaults.EvictionBackoffInitial
	}
	if p.RetryMax < p.RetryInitial {
		p.RetryMax = max(defaults.EvictionBackoffMax, p.RetryInitial)
	}
}

// Skip is a pod drain leaves where it is, and why. (Returned as "kept": Ansible reserves "skipped".)
type Skip struct {
	Pod    string `json:"pod"`
	Reason string `json:"reason"`
}

// Block is a pod whose eviction a PodDisruptionBudget refused.
type Block struct {
	Pod    string `json:"pod"`
	PDB    string `json:"pdb"`
	Reason string `json:"reason"`
}

// Result is what a step found, planned and did.
type Result struct {
	Node          string            `json:"node"`
	State         string            `json:"state"`
	Plan          []string          `json:"plan"`
	Evicted       []string          `json:"evicted"`
	Kept          []Skip            `json:"kept"`
	Blocked       []Block           `json:"blocked"`
	AgentPod      AgentPod          `json:"agent_pod"`
	Unschedulable bool              `json:"unschedulable"`
	Labels        map[string]string `json:"labels"`
	// CordonedBefore is whether the node was cordoned before the migration cordoned it, as
	// recorded (nil: nothing recorded).
	CordonedBefore *bool `json:"cordoned_before"`
	// Note says why a step left the node as it was (the module's msg).
	Note string `json:"-"`
	// Warnings name pods a drain left behind that will keep an address of the old CNI, and a
	// cordon uncordoned leaves although nothing records who set it.
	Warnings []string `json:"-"`
	// Before and After summarise the node for --diff.
	Before string `json:"-"`
	After  string `json:"-"`
}

// AgentPod names the Cilium agent pod on the node before and after a restart.
type AgentPod struct {
	Previous string `json:"previous"`
	Current  string `json:"current"`
}

// Changed reports whether the plan was not empty.
func (r *Result) Changed() bool { return len(r.Plan) > 0 }

// Run brings the node to p.State. With p.CheckMode it only plans. On failure the returned Result
// still says what was done.
func Run(ctx context.Context, kube kubernetes.Interface, p Parameters) (*Result, error) {
	checkOnly := p.CheckMode
	p.setDefaults()
	node, err := getNode(ctx, kube, p.Node)
	if err != nil {
		return nil, err
	}
	res := &Result{Node: p.Node, State: p.State, Plan: []string{}, Evicted: []string{}, Kept: []Skip{},
		Blocked: []Block{}, Unschedulable: node.Spec.Unschedulable, Labels: migrationLabels(node, p.Labels)}
	switch p.State {
	case Cordoned:
		err = cordon(ctx, kube, node, p, res, checkOnly)
	case Uncordoned:
		err = uncordon(ctx, kube, node, p, res, checkOnly)
	case Labeled:
		err = label(ctx, kube, node, p.Labels, res, checkOnly)
	case Drained:
		err = drain(ctx, kube, node, p, res, checkOnly)
	case AgentRestarted:
		err = restartAgent(ctx, kube, node, p, res, checkOnly)
	default:
		err = fmt.Errorf("value of state must be one of: %s, %s, %s, %s, %s, got: %s",
			Cordoned, Drained, Labeled, AgentRestarted, Uncordoned, p.State)
	}
	return res, err
}

func getNode(ctx context.Context, kube kubernetes.Interface, name string) (*corev1.Node, error) {
	node, err := kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		known := []string{}
		if list, lerr := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); lerr == nil {
			for _, n := range list.Items {
				known = append(known, n.Name)
			}
		}
		sort.Strings(known)
		return nil, fmt.Errorf("node %s does not exist (nodes in the cluster: %s)", name, strings.Join(known, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("read node %s: %w", name, err)
	}
	return node, nil
}

// migrationLabels returns the node's values for the given label keys (for the result).
func migrationLabels(node *corev1.Node, want map[string]string) map[string]string {
	out := map[string]string{}
	for k := range want {
		if v, ok := node.Labels[k]; ok {
			out[k] = v
		}
	}
	return out
}

func label(ctx context.Context, kube kubernetes.Interface, node *corev1.Node, labels map[string]string, res *Result, checkOnly bool) error {
	missing := map[string]string{}
	var before, after strings.Builder
	fmt.Fprintf(&before, "node: %s\nlabels:\n", node.Name)
	fmt.Fprintf(&after, "node: %s\nlabels:\n", node.Name)
	for _, k := range sortedKeys(labels) {
		cur, ok := node.Labels[k]
		if ok {
			fmt.Fprintf(&before, "  %s: %q\n", k, cur)
		}
		fmt.Fprintf(&after, "  %s: %q\n", k, labels[k])
		if !ok || cur != labels[k] {
			missing[k] = labels[k]
			res.Plan = append(res.Plan, fmt.Sprintf("label node %s %s=%s", node.Name, k, labels[k]))
		}
	}
	res.Before, res.After = before.String(), after.String()
	if len(missing) == 0 || checkOnly {
		return nil
	}
	patch, err := labelPatch(missing)
	if err != nil {
		return err
	}
	if _, err := kube.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label node %s: %w", node.Name, err)
	}
	for k, v := range missing {
		res.Labels[k] = v
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
