// Package health is the API-only layer of the connectivity check: nodes Ready, the CNI agent
// DaemonSets rolled out and ready on every node, pods per CNI ("N/M pods managed by Cilium", as
// cilium status counts them), CoreDNS available with endpoints, pods stuck in ContainerCreating
// with sandbox/CNI errors, and Services without endpoints. It reads and never writes, so it also
// runs in check mode and on clusters whose pods are fake.
package health

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Check names, as the checks option names them.
const (
	CheckNodes    = "nodes"
	CheckAgents   = "cni-agent"
	CheckPods     = "cni-pods"
	CheckCoreDNS  = "coredns"
	CheckSandbox  = "sandbox-errors"
	CheckServices = "service-endpoints"
)

// Checks lists the health checks in the order they run.
var Checks = []string{CheckNodes, CheckAgents, CheckPods, CheckCoreDNS, CheckSandbox, CheckServices}

// CNI names.
const (
	CNICalico = "calico"
	CNICilium = "cilium"
	CNIAuto   = "auto"
)

// Config is what the health layer reads with. Dynamic may be nil: CiliumEndpoints and Calico IP
// pools are then not consulted (pods are attributed by Cilium's CIDR alone).
type Config struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// CNI is calico, cilium or auto (whichever agent DaemonSets exist; both during a migration).
	CNI string
	// Namespaces limits the pod and Service checks; empty means all namespaces.
	Namespaces []string
	// Enabled selects checks by name (see Checks).
	Enabled map[string]bool
}

// Outcome is what the health layer found.
type Outcome struct {
	Entries []result.Entry
	CNI     []string // the CNI agents checked
	Pods    *result.PodCount
}

// Run runs the enabled checks. An error means the cluster could not be read at all (listing nodes
// failed); a check that fails to read something it needs reports that in its own entry.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	nodes, err := cfg.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	agents, err := findAgents(ctx, cfg.Kube, cfg.CNI)
	if err != nil {
		return nil, err
	}
	out := &Outcome{CNI: agents.names()}
	var pods []corev1.Pod
	var podsErr error
	if cfg.Enabled[CheckPods] || cfg.Enabled[CheckSandbox] {
		pods, podsErr = listPods(ctx, cfg)
	}
	for _, name := range Checks {
		if !cfg.Enabled[name] {
			continue
		}
		switch name {
		case CheckNodes:
			out.Entries = append(out.Entries, checkNodes(nodes.Items))
		case CheckAgents:
			out.Entries = append(out.Entries, checkAgents(ctx, cfg, agents, nodes.Items)...)
		case CheckPods:
			e, count := checkPods(ctx, cfg, agents, pods, podsErr)
			out.Entries, out.Pods = append(out.Entries, e), count
		case CheckCoreDNS:
			out.Entries = append(out.Entries, checkCoreDNS(ctx, cfg.Kube))
		case CheckSandbox:
			out.Entries = append(out.Entries, checkSandbox(ctx, cfg.Kube, pods, podsErr))
		case CheckServices:
			out.Entries = append(out.Entries, checkServices(ctx, cfg))
		}
	}
	return out, nil
}

// entry starts a health entry.
func entry(name string) result.Entry {
	return result.Entry{Name: name, Layer: result.LayerHealth, Status: result.Passed}
}

func failed(e result.Entry, err string) result.Entry {
	e.Status, e.Error = result.Failed, err
	return e
}

// namespaces returns the namespaces to list in: [""] (all) when none were named.
func namespaces(cfg Config) []string {
	if len(cfg.Namespaces) == 0 {
		return []string{metav1.NamespaceAll}
	}
	return cfg.Namespaces
}

// ours reports whether a namespace is a probe layer's test namespace (left out of the checks).
func ours(ns string) bool { return strings.HasPrefix(ns, defaults.ConnectivityNamespacePrefix) }

func listPods(ctx context.Context, cfg Config) ([]corev1.Pod, error) {
	var out []corev1.Pod
	for _, ns := range namespaces(cfg) {
		list, err := cfg.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list pods%s: %w", inNamespace(ns), err)
		}
		for _, p := range list.Items {
			if !ours(p.Namespace) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in " + ns
}

// limit keeps the first n items of a list and says how many more there were.
func limit(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return append(items[:n:n], fmt.Sprintf("… and %d more", len(items)-n))
}
