package cilium

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// PreflightError lists every refusal found before anything changed; each names what to fix.
type PreflightError struct{ Problems []string }

func (e *PreflightError) Error() string {
	return "preflight refused the change (nothing was changed): " + strings.Join(e.Problems, "; ")
}

// preflightResult is what the checks found that does not stop the run.
type preflightResult struct {
	Warnings []string
	Fix      *autodetectFix // Calico autodetection fix, when needed
}

// namedCIDR is a range the new pod CIDR must stay clear of.
type namedCIDR struct {
	What string // "Calico IPPool default-ipv4-ippool", "service_cidr", ...
	CIDR netip.Prefix
}

// preflight runs the read-only checks of a present run against the desired values.
func preflight(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface, p Parameters, values map[string]any) (*preflightResult, error) {
	res := &preflightResult{}
	var problems []string
	podCIDRs, err := effectivePodCIDRs(values)
	if err != nil {
		problems = append(problems, err.Error())
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	taken, warns, err := occupiedRanges(ctx, kube, dyn, p, nodes.Items)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, warns...)
	problems = append(problems, overlaps(podCIDRs, taken)...)
	if p.Mode == ModeMigration {
		msg, err := tunnelPortProblem(ctx, dyn, values)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			problems = append(problems, msg)
		}
	}
	if p.Mode != ModeFresh {
		warn, fix, err := checkAutodetect(ctx, kube, dyn)
		if err != nil {
			return nil, err
		}
		if fix != nil && p.PatchCalicoAutodetect {
			res.Fix = fix
		} else if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
	}
	if flannel := flannelWarning(nodes.Items); flannel != "" {
		res.Warnings = append(res.Warnings, flannel)
	}
	if p.Mode == ModeMigration {
		warn, err := coreDNSDrainWarning(ctx, kube)
		if err != nil {
			return nil, err
		}
		if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
	}
	if len(problems) > 0 {
		return res, &PreflightError{Problems: problems}
	}
	return res, nil
}

// effectivePodCIDRs reads the cluster-pool CIDRs Helm will get (user values may have changed them).
func effectivePodCIDRs(values map[string]any) ([]netip.Prefix, error) {
	if mode, _ := lookup(values, []string{"ipam", "mode"}); mode != nil && mode != "cluster-pool" {
		return nil, nil // another IPAM mode: its ranges are not ours to check
	}
	raw, _ := lookup(values, []string{"ipam", "operator", "clusterPoolIPv4PodCIDRList"})
	var list []string
	switch v := raw.(type) {
	case []any:
		for _, e := range v {
			list = append(list, fmt.Sprint(e))
		}
	case string:
		list = strings.Split(v, ",")
	}
	var out []netip.Prefix
	for _, s := range list {
		pfx, err := parseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("pod CIDR (pod_cidr or ipam.operator.clusterPoolIPv4PodCIDRList): %w", err)
		}
		out = append(out, pfx)
	}
	return out, nil
}

// occupiedRanges collects what the pod CIDR must not overlap: the service CIDR always, Calico's
// IPPools always (a fresh install next to Calico is a mistake too), and in migration and finalize
// also K3s' cluster CIDR and every node's podCIDRs, which Calico's pods still use.
func occupiedRanges(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface, p Parameters, nodes []corev1.Node) ([]namedCIDR, []string, error) {
	var out []namedCIDR
	var warns []string
	svc, _ := parseCIDR(p.ServiceCIDR)
	out = append(out, namedCIDR{What: "service_cidr " + p.ServiceCIDR, CIDR: svc})
	if w := serviceIPWarning(ctx, kube, svc); w != "" {
		warns = append(warns, w)
	}
	pools, err := calicoPools(ctx, dyn)
	if err != nil {
		return nil, nil, err
	}
	for _, pool := range pools {
		if pfx, err := parseCIDR(pool.CIDR); err == nil {
			out = append(out, namedCIDR{What: fmt.Sprintf("Calico IPPool %s (%s)", pool.Name, pool.CIDR), CIDR: pfx})
		}
	}
	if p.Mode == ModeFresh {
		return out, warns, nil
	}
	cluster, _ := parseCIDR(p.ClusterCIDR)
	out = append(out, namedCIDR{What: "cluster_cidr " + p.ClusterCIDR, CIDR: cluster})
	for _, n := range nodes {
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		for _, c := range cidrs {
			if pfx, err := parseCIDR(c); err == nil {
				out = append(out, namedCIDR{What: fmt.Sprintf("node %s podCIDR %s", n.Name, c), CIDR: pfx})
			}
		}
	}
	return out, warns, nil
}

// serviceIPWarning checks service_cidr against the kubernetes Service's ClusterIP, the one
// service IP every cluster has; a mismatch means service_cidr is wrong for this cluster.
func serviceIPWarning(ctx context.Context, kube kubernetes.Interface, svc netip.Prefix) string {
	s, err := kube.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		return ""
	}
	ip, err := netip.ParseAddr(s.Spec.ClusterIP)
	if err != nil || svc.Contains(ip) {
		return ""
	}
	return fmt.Sprintf("service_cidr %s does not contain the kubernetes Service IP %s: set service_cidr to this cluster's service CIDR", svc, ip)
}

// overlaps names every pair of pod CIDR and occupied range that share addresses.
func overlaps(pod []netip.Prefix, taken []namedCIDR) []string {
	var out []string
	for _, pfx := range pod {
		var hits []string
		for _, t := range taken {
			if pfx.Overlaps(t.CIDR) {
				hits = append(hits, t.What)
			}
		}
		if len(hits) > 0 {
			sort.Strings(hits)
			out = append(out, fmt.Sprintf("pod CIDR %s overlaps %s: choose a pod_cidr disjoint from them", pfx, strings.Join(hits, ", ")))
		}
	}
	return out
}

// tunnelPortProblem refuses a Cilium VXLAN port equal to Calico's: both overlays would claim it.
func tunnelPortProblem(ctx context.Context, dyn dynamic.Interface, values map[string]any) (string, error) {
	calico, err := calicoVXLANPort(ctx, dyn)
	if err != nil {
		return "", err
	}
	port := 8472 // the chart's VXLAN default when tunnelPort is unset
	if v, found := lookup(values, []string{"tunnelPort"}); found && v != nil {
		f, ok := v.(float64)
		if !ok {
			return fmt.Sprintf("tunnelPort %v is not a number", v), nil
		}
		if f != 0 {
			port = int(f)
		}
	}
	if port == calico {
		return fmt.Sprintf("tunnel port %d (tunnel_port) is Calico's VXLAN port: pick another one (default %d)",
			port, defaults.CiliumMigrationPort), nil
	}
	return "", nil
}

// flannelWarning names the nodes that still carry flannel's annotations: K3s' embedded flannel
// may still run there (a K3s for Calico or Cilium runs with --flannel-backend=none).
func flannelWarning(nodes []corev1.Node) string {
	var names []string
	for _, n := range nodes {
		for k := range n.Annotations {
			if strings.HasPrefix(k, defaults.FlannelAnnotationPrefix) {
				names = append(names, n.Name)
				break
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return fmt.Sprintf("flannel still looks active on node(s) %s (annotations %s*): K3s must run with "+
		"--flannel-backend=none before Cilium takes over", strings.Join(names, ", "), defaults.FlannelAnnotationPrefix)
}

// isPreflight reports whether err is a preflight refusal.
func isPreflight(err error) bool {
	var pe *PreflightError
	return errors.As(err, &pe)
}

// coreDNSDrainWarning warns, before a live migration, when draining one node can take cluster DNS
// down: CoreDNS runs fewer than two replicas, or no PodDisruptionBudget keeps one of them up while
// a drain evicts the others (K3s ships one replica and no PDB). "" when CoreDNS is not there.
func coreDNSDrainWarning(ctx context.Context, kube kubernetes.Interface) (string, error) {
	ns, name := defaults.CoreDNSNamespace, defaults.CoreDNSDeployment
	d, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read Deployment %s/%s: %w", ns, name, err)
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	pdbs, err := kube.PolicyV1().PodDisruptionBudgets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list PodDisruptionBudgets in %s: %w", ns, err)
	}
	covered := false
	for _, pdb := range pdbs.Items {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			covered = true
		}
	}
	var why []string
	if replicas < 2 {
		why = append(why, fmt.Sprintf("only %d replica", replicas))
	}
	if !covered {
		why = append(why, "no PodDisruptionBudget covers it")
	}
	if len(why) == 0 {
		return "", nil
	}
	return fmt.Sprintf("CoreDNS (Deployment %s/%s): %s. The live migration drains each node in turn, and cluster DNS "+
		"stops answering while the node that runs it is drained; scale it to 2 replicas on different nodes with a "+
		"PodDisruptionBudget of minAvailable 1 before the migration", ns, name, strings.Join(why, ", and ")), nil
}
