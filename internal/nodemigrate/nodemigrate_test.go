package nodemigrate

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

func agentNodePods() []*corev1.Pod {
	return []*corev1.Pod{
		pod("jupyter", "web", "agent-1", "ReplicaSet"),
		pod("kube-system", "calico-node-a", "agent-1", "DaemonSet"),
		pod("kube-system", "static", "agent-1", "Node", func(p *corev1.Pod) {
			p.Annotations = map[string]string{defaults.MirrorPodAnnotation: "x"}
		}),
		pod("argo", "job-done", "agent-1", "Job", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		pod("jupyter", "elsewhere", "agent-2", "ReplicaSet"),
	}
}

func TestDrainEvictsWhatMovesAndLeavesTheRest(t *testing.T) {
	cs := cluster(t, node("agent-1"), node("agent-2"))
	for _, p := range agentNodePods() {
		_ = cs.Tracker().Add(p)
	}
	p := Parameters{Node: "agent-1", State: Drained, Timeout: 10 * time.Second}
	res, err := Run(context.Background(), cs, p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Evicted, ",") != "jupyter/web" {
		t.Fatalf("evicted %v, want only jupyter/web", res.Evicted)
	}
	if len(res.Kept) != 3 {
		t.Fatalf("skipped %v, want the DaemonSet, mirror and finished pods", res.Kept)
	}
	if !getNodeT(t, cs, "agent-1").Spec.Unschedulable || podExists(t, cs, "jupyter", "web") {
		t.Fatal("node should be cordoned and jupyter/web gone")
	}
	if !podExists(t, cs, "jupyter", "elsewhere") || !podExists(t, cs, "kube-system", "calico-node-a") {
		t.Fatal("pods that must stay were removed")
	}
	again, err := Run(context.Background(), cs, p)
	if err != nil || again.Changed() {
		t.Fatalf("second drain: changed=%v plan=%v err=%v, want no change", again.Changed(), again.Plan, err)
	}
}

func TestDrainCheckModeChangesNothing(t *testing.T) {
	cs := cluster(t, node("agent-1"))
	for _, p := range agentNodePods() {
		_ = cs.Tracker().Add(p)
	}
	res, err := Run(context.Background(), cs, Parameters{Node: "agent-1", State: Drained, CheckMode: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cordon node agent-1", "evict pod jupyter/web"}
	if strings.Join(res.Plan, "|") != strings.Join(want, "|") {
		t.Fatalf("plan %v, want %v", res.Plan, want)
	}
	if getNodeT(t, cs, "agent-1").Spec.Unschedulable || !podExists(t, cs, "jupyter", "web") {
		t.Fatal("check mode changed the cluster")
	}
	if !strings.Contains(res.Before, "jupyter/web") || strings.Contains(res.After, "jupyter/web") {
		t.Fatalf("diff should show the pod leaving:\n%s---\n%s", res.Before, res.After)
	}
}

func TestDrainBarePods(t *testing.T) {
	for _, c := range []struct {
		bare      string
		wantErr   string
		wantStays bool
	}{
		{BareFail, "argo/lonely", true},
		{BareSkip, "", true},
		{BareEvict, "", false},
	} {
		t.Run(c.bare, func(t *testing.T) {
			cs := cluster(t, node("agent-1"), pod("argo", "lonely", "agent-1", ""))
			res, err := Run(context.Background(), cs, Parameters{Node: "agent-1", State: Drained, BarePods: c.bare})
			if (err != nil) != (c.wantErr != "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if podExists(t, cs, "argo", "lonely") != c.wantStays {
				t.Fatalf("bare pod stays = %v, want %v", !c.wantStays, c.wantStays)
			}
			if c.bare == BareFail && getNodeT(t, cs, "agent-1").Spec.Unschedulable {
				t.Fatal("a refused drain must not cordon the node")
			}
			if c.bare == BareSkip && len(res.Warnings) != 1 {
				t.Fatalf("skipping a bare pod should warn, got %v", res.Warnings)
			}
		})
	}
}

func TestDrainNamesTheBlockingPDB(t *testing.T) {
	cs := cluster(t, node("agent-1"), pod("mlflow-system", "mlflow", "agent-1", "StatefulSet"),
		pod("jupyter", "web", "agent-1", "ReplicaSet"), pdb("mlflow-system", "mlflow-pdb", "mlflow"))
	res, err := Run(context.Background(), cs, Parameters{Node: "agent-1", State: Drained, Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "mlflow-system/mlflow-pdb") {
		t.Fatalf("err = %v, want a timeout naming the PDB", err)
	}
	if len(res.Blocked) != 1 || !strings.Contains(res.Blocked[0].PDB, "mlflow-system/mlflow-pdb") {
		t.Fatalf("blocked = %+v", res.Blocked)
	}
	if strings.Join(res.Evicted, ",") != "jupyter/web" {
		t.Fatalf("the unprotected pod should still be evicted, evicted = %v", res.Evicted)
	}
}

func TestCordonLabelUncordon(t *testing.T) {
	cs := cluster(t, node("agent-1"))
	ctx := context.Background()
	steps := []struct {
		state, wantPlan string
	}{
		{Cordoned, "cordon node agent-1"},
		{Cordoned, ""},
		{Labeled, "label node agent-1 io.cilium.migration/cilium-default=true"},
		{Labeled, ""},
		{Uncordoned, "uncordon node agent-1"},
		{Uncordoned, ""},
	}
	for i, s := range steps {
		if res, err := Run(ctx, cs, Parameters{Node: "agent-1", State: s.state, CheckMode: true}); err != nil || strings.Join(res.Plan, "") != s.wantPlan {
			t.Fatalf("step %d %s check mode: plan %v err %v, want %q", i, s.state, res.Plan, err, s.wantPlan)
		}
		res, err := Run(ctx, cs, Parameters{Node: "agent-1", State: s.state})
		if err != nil || strings.Join(res.Plan, "") != s.wantPlan {
			t.Fatalf("step %d %s: plan %v err %v, want %q", i, s.state, res.Plan, err, s.wantPlan)
		}
	}
	n := getNodeT(t, cs, "agent-1")
	if n.Spec.Unschedulable || n.Labels[defaults.CiliumMigrationLabel] != "true" {
		t.Fatalf("node ends unschedulable=%v labels=%v", n.Spec.Unschedulable, n.Labels)
	}
}

func TestAgentRestarted(t *testing.T) {
	cs := cluster(t, node("agent-1"), pod("kube-system", "cilium-a1", "agent-1", "DaemonSet", readyPod, func(p *corev1.Pod) {
		p.Labels = map[string]string{"k8s-app": "cilium"}
	}), pod("kube-system", "cilium-a2", "agent-2", "DaemonSet", readyPod, func(p *corev1.Pod) {
		p.Labels = map[string]string{"k8s-app": "cilium"}
	}))
	replaceAgentOnDelete(t, cs)
	p := Parameters{Node: "agent-1", State: AgentRestarted, Timeout: 5 * time.Second}
	res, err := Run(context.Background(), cs, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.AgentPod.Previous != "kube-system/cilium-a1" || res.AgentPod.Current != "kube-system/cilium-a1-new" {
		t.Fatalf("agent pod %+v", res.AgentPod)
	}
	if !podExists(t, cs, "kube-system", "cilium-a2") {
		t.Fatal("the agent on another node was restarted")
	}
	again, err := Run(context.Background(), cs, p)
	if err != nil || again.Changed() {
		t.Fatalf("second restart: plan %v err %v, want no change", again.Plan, err)
	}
}

func TestRunRefusals(t *testing.T) {
	cs := cluster(t, node("agent-1"), node("server-1"))
	cases := []struct {
		p    Parameters
		want string
	}{
		{Parameters{Node: "agent-9", State: Cordoned}, "nodes in the cluster: agent-1, server-1"},
		{Parameters{Node: "agent-1", State: AgentRestarted}, "no Cilium agent pod on node agent-1"},
		{Parameters{Node: "agent-1", State: "rebooted"}, "must be one of"},
	}
	for _, c := range cases {
		_, err := Run(context.Background(), cs, c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.p, err, c.want)
		}
	}
	if n := getNodeT(t, cs, "agent-1"); n.Spec.Unschedulable || n.Annotations != nil {
		t.Fatal("refused steps changed the node")
	}
}
