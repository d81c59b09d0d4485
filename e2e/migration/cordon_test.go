package migration

import (
	"context"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	e2etypes "sigs.k8s.io/e2e-framework/pkg/types"
)

// operatorCordon is a node the operator had cordoned before the migration (kept out of service
// for maintenance, say): the migration and a rollback must leave it cordoned, and uncordon only the
// nodes they cordoned themselves.
type operatorCordon struct{ node string }

// cordonANode cordons a control-plane node (the live strategy moves it last, so the agents keep
// room for the drained pods) the way `kubectl cordon` does.
func (oc *operatorCordon) cordonANode() e2etypes.Feature {
	return features.New("the operator has cordoned a node before the migration").WithLabel("phase", "migrate").
		Assess("a control-plane node is cordoned", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			nodes, err := c.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil || len(nodes.Items) < 2 {
				t.Fatalf("list nodes: %v (%d nodes)", err, len(nodes.Items))
			}
			oc.node = pickControlPlane(nodes.Items)
			patch := []byte(`{"spec":{"unschedulable":true}}`)
			if _, err := c.kube.CoreV1().Nodes().Patch(ctx, oc.node, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
				t.Fatalf("cordon node %s: %v", oc.node, err)
			}
			return ctx
		}).Feature()
}

func pickControlPlane(nodes []corev1.Node) string {
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, n := range nodes {
		if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
			return n.Name
		}
	}
	for _, n := range nodes {
		if strings.Contains(n.Name, "server") {
			return n.Name
		}
	}
	return nodes[0].Name
}

// kept: the operator's node is still cordoned, and no other node is left cordoned.
func (oc *operatorCordon) kept(when string) e2etypes.Feature {
	return features.New("the operator's cordon is kept "+when).WithLabel("phase", "migrate").
		Assess("the node cordoned before the migration is still cordoned; every other node takes pods", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			nodes, err := newClients(t, cfg.Client().RESTConfig()).kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list nodes: %v", err)
			}
			for _, n := range nodes.Items {
				switch {
				case n.Name == oc.node && !n.Spec.Unschedulable:
					t.Errorf("node %s, cordoned by the operator before the migration, was uncordoned %s", n.Name, when)
				case n.Name != oc.node && n.Spec.Unschedulable:
					t.Errorf("node %s is left cordoned %s", n.Name, when)
				}
			}
			return ctx
		}).Feature()
}
