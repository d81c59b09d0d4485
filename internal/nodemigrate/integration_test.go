package nodemigrate

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// TestIntegrationNodeStepsOnTheLab walks one agent of the lab through the live-migration steps
// against the real API server (evictions, PDBs, DaemonSet controller, kwok's pod lifecycle).
func TestIntegrationNodeStepsOnTheLab(t *testing.T) {
	cfg := lab.Defaults()
	cfg.Hosts = false
	l := labtest.Start(t, cfg)
	c, err := k8s.FromConfig(l.RESTConfig(), l.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kube := c.Kube
	createAgentDaemonSet(t, kube)
	const node = "k3s-agent-0"
	step := func(state string, check bool) *Result {
		t.Helper()
		res, err := Run(ctx, kube, Parameters{Node: node, State: state, BarePods: BareSkip, Timeout: 2 * time.Minute, CheckMode: check})
		if err != nil {
			t.Fatalf("%s (check=%v): %v", state, check, err)
		}
		return res
	}

	before := podsOn(t, kube, node)
	planned := step(Drained, true)
	if !planned.Changed() || len(podsOn(t, kube, node)) != len(before) {
		t.Fatalf("check mode: plan %v, pods %d → %d", planned.Plan, len(before), len(podsOn(t, kube, node)))
	}
	drained := step(Drained, false)
	for _, p := range podsOn(t, kube, node) {
		ctrl := metav1.GetControllerOf(&p)
		if (ctrl == nil || ctrl.Kind != "DaemonSet") && p.Status.Phase == corev1.PodRunning && !skipped(drained, p) {
			t.Errorf("pod %s/%s is still on the drained node", p.Namespace, p.Name)
		}
	}
	if len(drained.Evicted) == 0 {
		t.Fatalf("nothing was evicted from %s (pods there: %d)", node, len(before))
	}
	if again := step(Drained, false); again.Changed() {
		t.Fatalf("second drain changed %v", again.Plan)
	}
	step(Labeled, false)
	restarted := step(AgentRestarted, false)
	if restarted.AgentPod.Previous == restarted.AgentPod.Current {
		t.Fatalf("agent pod not replaced: %+v", restarted.AgentPod)
	}
	if again := step(AgentRestarted, false); again.Changed() {
		t.Fatalf("second agent restart changed %v", again.Plan)
	}
	step(Uncordoned, false)
	n, err := kube.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil || n.Spec.Unschedulable || n.Labels["io.cilium.migration/cilium-default"] != "true" {
		t.Fatalf("node after the steps: %v %+v", err, n)
	}
}

// TestIntegrationDrainBlockedByPDB: a PDB that allows no disruption stops the drain at its
// timeout, and the failure names the budget.
func TestIntegrationDrainBlockedByPDB(t *testing.T) {
	cfg := lab.Defaults()
	cfg.Hosts, cfg.Workloads, cfg.Calico = false, false, lab.CalicoNone
	l := labtest.Start(t, cfg)
	c, err := k8s.FromConfig(l.RESTConfig(), l.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const node = "k3s-agent-1"
	labels := map[string]string{"app": "guarded"}
	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(node)}}}
	minAvail := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "guarded-pdb", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvail, Selector: &metav1.LabelSelector{MatchLabels: labels}}}
	if _, err := c.Kube.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kube.PolicyV1().PodDisruptionBudgets("default").Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	awaitReady(t, c.Kube, "default", "app=guarded", 1)
	res, err := Run(ctx, c.Kube, Parameters{Node: node, State: Drained, Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "default/guarded-pdb") {
		t.Fatalf("err = %v, want a timeout naming default/guarded-pdb", err)
	}
	if res == nil || len(res.Blocked) != 1 || !res.Unschedulable {
		t.Fatalf("result %+v: want the pod blocked and the node cordoned", res)
	}
}

func podSpec(node string) corev1.PodSpec {
	return corev1.PodSpec{
		NodeSelector: map[string]string{"kubernetes.io/hostname": node},
		Tolerations:  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		Containers:   []corev1.Container{{Name: "c", Image: "registry.invalid/fake:1"}},
	}
}

// createAgentDaemonSet stands in for Cilium's agent DaemonSet (kwok runs its pods).
func createAgentDaemonSet(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	labels := map[string]string{"k8s-app": "cilium"}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "cilium", Namespace: "kube-system"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
				Containers:  []corev1.Container{{Name: "cilium-agent", Image: "registry.invalid/cilium:fake"}}}}}}
	if _, err := kube.AppsV1().DaemonSets("kube-system").Create(context.Background(), ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	nodes, err := kube.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	awaitReady(t, kube, "kube-system", "k8s-app=cilium", len(nodes.Items))
}

func awaitReady(t *testing.T, kube kubernetes.Interface, ns, selector string, want int) {
	t.Helper()
	err := wait.For(context.Background(), selector+" pods ready", 2*time.Minute, 0, func(ctx context.Context) (bool, string, error) {
		list, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, "", err
		}
		n := 0
		for i := range list.Items {
			if ready(&list.Items[i]) {
				n++
			}
		}
		return n >= want, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func podsOn(t *testing.T, kube kubernetes.Interface, node string) []corev1.Pod {
	t.Helper()
	pods, err := podsOnNode(context.Background(), kube, node, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

func skipped(r *Result, p corev1.Pod) bool {
	for _, s := range r.Kept {
		if s.Pod == p.Namespace+"/"+p.Name {
			return true
		}
	}
	return false
}
