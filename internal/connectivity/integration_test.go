package connectivity

// Integration tests on the lab: a real kube-apiserver, controllers and scheduler, kwok's fake
// nodes, Calico from its manifest, CoreDNS and the workloads. The health layer gives real verdicts
// there; the probe layer must skip every probe ("probes need real pods") and still remove its
// namespace. Subtests share one lab and run in order; each one undoes what it changed.

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

type labEnv struct {
	t       *testing.T
	lab     *lab.Lab
	ctx     context.Context
	clients Clients
	kube    kubernetes.Interface
	nodes   []lab.Node
}

func TestIntegrationLab(t *testing.T) {
	cfg := lab.Defaults()
	cfg.Hosts = false // the API is all these tests need
	l := labtest.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := k8s.FromConfig(l.RESTConfig(), "lab")
	if err != nil {
		t.Fatal(err)
	}
	env := &labEnv{t: t, lab: l, ctx: ctx, kube: c.Kube, nodes: l.Nodes(),
		clients: Clients{Kube: c.Kube, Dynamic: c.Dynamic, Exec: nil}}

	t.Run("healthy Calico", env.healthyCalico)
	t.Run("Cilium rolling out on one node", env.ciliumPartial)
	t.Run("node NotReady with a pod stuck on a CNI error", env.nodeNotReady)
	t.Run("CoreDNS without endpoints", env.coreDNSDown)
	t.Run("probes need real pods and clean up", env.probesOnKwok)
	t.Run("probe input errors create nothing", env.probeInputErrors)
}

// health runs the health layer with fail_on none and returns the report.
func (e *labEnv) health(t *testing.T, cni string) *result.Report {
	t.Helper()
	p := params(t, Options{CNI: cni, Checks: []string{"health"}, FailOn: "none"})
	r, err := Run(e.ctx, e.clients, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func entryNamed(t *testing.T, entries []result.Entry, name string) result.Entry {
	t.Helper()
	for _, e := range entries {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("no entry %q in %v", name, entries)
	return result.Entry{}
}

func logEntries(t *testing.T, r *result.Report) {
	t.Helper()
	t.Log(r.Summary)
	for _, e := range append(append([]result.Entry(nil), r.Checks...), r.Probes...) {
		t.Logf("  %s: %s | %s | %s", e.Title(), e.Status, e.Observed, e.Problem())
	}
}

func (e *labEnv) healthyCalico(t *testing.T) {
	r := e.health(t, "auto")
	logEntries(t, r)
	if r.Counts.Health.Failed != 0 || r.Counts.Health.Passed != 6 {
		t.Errorf("healthy lab: %s", r.Summary)
	}
	if strings.Join(r.CNI, ",") != "calico" {
		t.Errorf("detected CNI %v, want calico", r.CNI)
	}
	agent := entryNamed(t, r.Checks, "cni-agent/calico")
	if !strings.HasSuffix(agent.Observed, fmt.Sprintf("ready on %d/%d nodes", len(e.nodes), len(e.nodes))) {
		t.Errorf("calico agent: %q", agent.Observed)
	}
	if r.Pods == nil || r.Pods.Total == 0 || r.Pods.Calico != r.Pods.Total || r.Pods.Cilium != 0 {
		t.Errorf("every workload pod is Calico's (IP pool 10.42.0.0/16): %+v", r.Pods)
	}
}

// ciliumPartial creates a cilium DaemonSet whose pods can only land on one node (as when Cilium's
// rollout is stuck) and a cilium-config whose cluster pool is that node's pod CIDR (as when that
// node has been migrated).
func (e *labEnv) ciliumPartial(t *testing.T) {
	target := e.nodes[1]
	ds := agentDaemonSet(target.Name)
	if _, err := e.kube.AppsV1().DaemonSets("kube-system").Create(e.ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium-config"},
		Data: map[string]string{"cluster-pool-ipv4-cidr": target.PodCIDR}}
	if _, err := e.kube.CoreV1().ConfigMaps("kube-system").Create(e.ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.kube.AppsV1().DaemonSets("kube-system").Delete(e.ctx, "cilium", metav1.DeleteOptions{})
		_ = e.kube.CoreV1().ConfigMaps("kube-system").Delete(e.ctx, "cilium-config", metav1.DeleteOptions{})
	})
	e.waitFor(t, "the cilium pod on "+target.Name+" to be ready", func(ctx context.Context) (bool, string, error) {
		got, err := e.kube.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		return got.Status.NumberReady == 1 && got.Status.ObservedGeneration >= got.Generation,
			fmt.Sprintf("%d ready", got.Status.NumberReady), nil
	})

	r := e.health(t, "auto")
	logEntries(t, r)
	if strings.Join(r.CNI, ",") != "calico,cilium" {
		t.Errorf("mixed phase must check both agents, got %v", r.CNI)
	}
	if a := entryNamed(t, r.Checks, "cni-agent/calico"); a.Status != result.Passed {
		t.Errorf("calico is still complete: %+v", a)
	}
	a := entryNamed(t, r.Checks, "cni-agent/cilium")
	var lacking []string
	for _, n := range e.nodes {
		if n.Name != target.Name {
			lacking = append(lacking, n.Name)
		}
	}
	sort.Strings(lacking)
	want := fmt.Sprintf("no ready cilium pod on %d/%d nodes: %s", len(lacking), len(e.nodes), strings.Join(lacking, ", "))
	if a.Status != result.Failed || !strings.Contains(a.Error, want) {
		t.Errorf("cilium agent: %s %q, want failed containing %q", a.Status, a.Error, want)
	}
	onTarget := e.runningPodsIn(t, target.PodCIDR)
	pods := entryNamed(t, r.Checks, "cni-pods")
	if onTarget == 0 || r.Pods.Cilium != onTarget || r.Pods.Calico != r.Pods.Total-onTarget ||
		!strings.HasPrefix(pods.Observed, fmt.Sprintf("%d/%d pods managed by Cilium", onTarget, r.Pods.Total)) {
		t.Errorf("pods on the migrated node (%d) must count as Cilium's: %+v %q", onTarget, r.Pods, pods.Observed)
	}
	if pods.Status != result.Passed {
		t.Errorf("a mixed phase is not a pod failure: %+v", pods)
	}
	if only := e.health(t, "calico"); strings.Join(only.CNI, ",") != "calico" || only.Counts.Health.Failed != 0 {
		t.Errorf("cni: calico checks only calico: %v, %s", only.CNI, only.Summary)
	}
}

func agentDaemonSet(node string) *appsv1.DaemonSet {
	labels := map[string]string{"k8s-app": "cilium"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium", Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				HostNetwork:  true,
				NodeSelector: map[string]string{"kubernetes.io/hostname": node},
				Tolerations:  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
				Containers:   []corev1.Container{{Name: "cilium-agent", Image: "quay.io/cilium/cilium:v1.18.4"}},
			}},
		},
	}
}

// runningPodsIn counts running, not host-network pods with an IP in cidr.
func (e *labEnv) runningPodsIn(t *testing.T, cidr string) int {
	t.Helper()
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := e.kube.CoreV1().Pods("").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, p := range pods.Items {
		if !p.Spec.HostNetwork && p.Status.Phase == corev1.PodRunning && n.Contains(net.ParseIP(p.Status.PodIP)) {
			count++
		}
	}
	return count
}

func (e *labEnv) waitFor(t *testing.T, what string, cond wait.Condition) {
	t.Helper()
	if err := wait.For(e.ctx, what, 2*time.Minute, 200*time.Millisecond, cond); err != nil {
		t.Fatal(err)
	}
}
