package lab

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// WriteSummary prints what the lab holds, read from its API server: nodes, Calico, workloads, and
// how to reach it (kubeconfig, inventory, ssh).
func (l *Lab) WriteSummary(ctx context.Context, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Lab %q (work dir %s)\n\nNODES\tROLE\tINTERNAL-IP\tPOD-CIDR\tREADY\n", l.cfg.Name, l.cfg.WorkDir)
	nodes, err := l.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		role := RoleAgent
		if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
			role = RoleServer
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", n.Name, role, internalIP(n), n.Spec.PodCIDR, isNodeReady(n))
	}
	tw.Flush()
	if l.cfg.Calico != CalicoNone {
		fmt.Fprintln(w)
		l.writeCalico(ctx, w)
	}
	fmt.Fprintln(w)
	if err := l.writeWorkloads(ctx, w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	l.writeAccess(w)
	return nil
}

func (l *Lab) writeCalico(ctx context.Context, w io.Writer) {
	ns := calicoNamespace(l.cfg.Calico)
	fmt.Fprintf(w, "CALICO (%s flavour, namespace %s)\n", l.cfg.Calico, ns)
	if ds, err := l.kube.AppsV1().DaemonSets(ns).Get(ctx, defaults.CalicoNodeDaemonSet, metav1.GetOptions{}); err == nil {
		fmt.Fprintf(w, "  daemonset/calico-node: %d/%d ready\n", ds.Status.NumberReady, ds.Status.DesiredNumberScheduled)
	}
	if d, err := l.kube.AppsV1().Deployments(ns).Get(ctx, "calico-kube-controllers", metav1.GetOptions{}); err == nil {
		fmt.Fprintf(w, "  deployment/calico-kube-controllers: %d/%d ready\n", d.Status.ReadyReplicas, d.Status.Replicas)
	}
	count := func(res string) int {
		gvr := schema.GroupVersionResource{Group: defaults.CalicoCRDGroup, Version: "v1", Resource: res}
		list, err := l.apply.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			return -1
		}
		return len(list.Items)
	}
	crds, _ := l.apply.dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	calicoCRDs, operatorCRDs := 0, 0
	if crds != nil {
		for _, c := range crds.Items {
			switch {
			case strings.HasSuffix(c.GetName(), "."+defaults.CalicoCRDGroup):
				calicoCRDs++
			case strings.HasSuffix(c.GetName(), "."+defaults.TigeraOperatorGroup):
				operatorCRDs++
			}
		}
	}
	fmt.Fprintf(w, "  CRDs: %d %s, %d %s\n", calicoCRDs, defaults.CalicoCRDGroup, operatorCRDs, defaults.TigeraOperatorGroup)
	if calicoCRDs == 0 {
		// After a migration: Calico's API is gone, and so is everything it held.
		fmt.Fprintf(w, "  none left: no %s CRDs, so no IP pools, block affinities or Calico policies\n", defaults.CalicoCRDGroup)
	} else {
		fmt.Fprintf(w, "  ippool/%s %s VXLAN; %d block affinities; %d Calico NetworkPolicies, %d GlobalNetworkPolicies\n",
			calicoPoolName, defaults.K3sClusterCIDR, count("blockaffinities"), count("networkpolicies"), count("globalnetworkpolicies"))
	}
	if l.cfg.Calico == CalicoOperator {
		fmt.Fprintf(w, "  installation/default (finalizer %s), apiserver/default; tigera-operator in %s\n",
			installationFinalizer, defaults.TigeraOperatorNS)
	}
}

// writeWorkloads prints, per namespace with workloads, its controllers and pods.
func (l *Lab) writeWorkloads(ctx context.Context, w io.Writer) error {
	pods, err := l.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	type nsCount struct{ pods, ready, hostNet int }
	byNS := map[string]*nsCount{}
	for _, p := range pods.Items {
		c := byNS[p.Namespace]
		if c == nil {
			c = &nsCount{}
			byNS[p.Namespace] = c
		}
		c.pods++
		if podReady(&p) {
			c.ready++
		}
		if p.Spec.HostNetwork {
			c.hostNet++
		}
	}
	names := make([]string, 0, len(byNS))
	for ns := range byNS {
		names = append(names, ns)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tPODS READY\tHOSTNETWORK\tWORKLOADS\tNETWORKPOLICIES")
	for _, ns := range names {
		c := byNS[ns]
		wl, np := l.namespaceWorkloads(ctx, ns)
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\t%d\n", ns, c.ready, c.pods, c.hostNet, wl, np)
	}
	return tw.Flush()
}

func (l *Lab) namespaceWorkloads(ctx context.Context, ns string) (string, int) {
	var parts []string
	opts := metav1.ListOptions{}
	if d, err := l.kube.AppsV1().Deployments(ns).List(ctx, opts); err == nil && len(d.Items) > 0 {
		parts = append(parts, fmt.Sprintf("%d deploy", len(d.Items)))
	}
	if s, err := l.kube.AppsV1().StatefulSets(ns).List(ctx, opts); err == nil && len(s.Items) > 0 {
		parts = append(parts, fmt.Sprintf("%d sts", len(s.Items)))
	}
	if d, err := l.kube.AppsV1().DaemonSets(ns).List(ctx, opts); err == nil && len(d.Items) > 0 {
		parts = append(parts, fmt.Sprintf("%d ds", len(d.Items)))
	}
	if c, err := l.kube.BatchV1().CronJobs(ns).List(ctx, opts); err == nil && len(c.Items) > 0 {
		parts = append(parts, fmt.Sprintf("%d cronjob", len(c.Items)))
	}
	if p, err := l.kube.PolicyV1().PodDisruptionBudgets(ns).List(ctx, opts); err == nil && len(p.Items) > 0 {
		parts = append(parts, fmt.Sprintf("%d pdb", len(p.Items)))
	}
	np := 0
	if n, err := l.kube.NetworkingV1().NetworkPolicies(ns).List(ctx, opts); err == nil {
		np = len(n.Items)
	}
	return strings.Join(parts, ", "), np
}

func (l *Lab) writeAccess(w io.Writer) {
	fmt.Fprintf(w, "API server:  %s\n", l.Server())
	fmt.Fprintf(w, "kubeconfig:  %s\n", l.kubeconfig)
	fmt.Fprintf(w, "  kubectl:   %s --kubeconfig %s get pods -A\n", filepath.Join(l.tools.Dir, "kubectl"), l.kubeconfig)
	if l.inventory == "" {
		fmt.Fprintln(w, "node hosts:  none (started without node hosts)")
		return
	}
	fmt.Fprintf(w, "inventory:   %s\n", l.inventory)
	if st := l.state.Hosts; st != nil && len(l.nodes) > 0 {
		fmt.Fprintf(w, "  ssh:       ssh -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes root@%s\n",
			st.KeyPath, st.KnownHosts, l.nodes[0].IP)
		fmt.Fprintf(w, "  ansible:   ansible -i %s k3s_cluster -m ping\n", l.inventory)
	}
	fmt.Fprintf(w, "Pod and Service IPs (%s, %s) are fake: never connect to them.\n", defaults.K3sClusterCIDR, defaults.K3sServiceCIDR)
}
