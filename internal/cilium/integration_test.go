package cilium

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/cilium/ciliumtest"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
)

// devKubeconfigEnv points the integration tests at an already running lab (go run ./hack/lab up)
// instead of starting one: a shortcut while developing. The tests install and remove Cilium there.
const devKubeconfigEnv = "CILIUM_INSTALL_TEST_KUBECONFIG"

// testLab is a cluster for one integration test.
type testLab struct {
	kubeconfig string
	kube       kubernetes.Interface
	dyn        dynamic.Interface
	nodes      []string
}

func startLab(t *testing.T, calico lab.Calico) *testLab {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped under -short")
	}
	kubeconfig := os.Getenv(devKubeconfigEnv)
	if kubeconfig == "" {
		cfg := lab.Defaults()
		cfg.Calico, cfg.Workloads, cfg.Hosts = calico, false, false
		cfg.NoCiliumCRDs = true // the tests play cilium-operator themselves (simulateOperator)
		kubeconfig = labtest.Start(t, cfg).Kubeconfig()
	}
	clients, err := k8s.New(kubeconfig, "")
	must(t, err)
	nodes, err := clients.Kube.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	must(t, err)
	l := &testLab{kubeconfig: kubeconfig, kube: clients.Kube, dyn: clients.Dynamic}
	for _, n := range nodes.Items {
		l.nodes = append(l.nodes, n.Name)
	}
	l.reset(t)
	return l
}

// reset brings a reused dev lab back to the state of a new one: no release, no Cilium CRDs, calico-node
// without the autodetection setting. On a new lab (started with NoCiliumCRDs) it changes nothing.
func (l *testLab) reset(t *testing.T) {
	t.Helper()
	if _, err := Run(t.Context(), l.params(t, Parameters{State: StateAbsent, Wait: true})); err != nil {
		t.Fatalf("reset: remove Cilium: %v", err)
	}
	crds, err := l.dyn.Resource(crdGVR).List(t.Context(), metav1.ListOptions{})
	must(t, err)
	for _, crd := range crds.Items {
		if strings.HasSuffix(crd.GetName(), ".cilium.io") {
			must(t, l.dyn.Resource(crdGVR).Delete(t.Context(), crd.GetName(), metav1.DeleteOptions{}))
		}
	}
	ds, err := l.kube.AppsV1().DaemonSets("kube-system").Get(t.Context(), "calico-node", metav1.GetOptions{})
	if err != nil {
		return
	}
	for i, e := range ds.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "IP_AUTODETECTION_METHOD" {
			patch := fmt.Sprintf(`[{"op":"remove","path":"/spec/template/spec/containers/0/env/%d"}]`, i)
			_, err := l.kube.AppsV1().DaemonSets("kube-system").Patch(t.Context(), "calico-node", types.JSONPatchType, []byte(patch), metav1.PatchOptions{})
			must(t, err)
		}
	}
}

func realChart(t *testing.T) string {
	t.Helper()
	dir, err := ciliumtest.ChartDir()
	must(t, err)
	return dir
}

// simulateOperator registers Cilium's CRDs, as cilium-operator does when it starts (the lab's
// operator pods are kwok's: they run nothing), and waits until they are established.
func simulateOperator(t *testing.T, l *testLab) {
	t.Helper()
	_, err := ciliumtest.RegisterCRDs(t.Context(), l.dyn)
	must(t, err)
	check := &readinessCheck{dyn: l.dyn, crds: append(append([]string(nil), requiredCRDs...), "ciliumnodeconfigs.cilium.io")}
	waitFor(t, "Cilium CRDs established", func() (bool, string) {
		p, err := check.crdProblem(t.Context())
		return err == nil && p == "", p
	})
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		ok, obs := cond()
		if ok {
			return
		}
		last = obs
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %s", what, last)
}

// params is a run against the lab with the real chart.
func (l *testLab) params(t *testing.T, p Parameters) Parameters {
	if p.Kubeconfig == "" {
		p.Kubeconfig = l.kubeconfig
	}
	if p.ChartRef == "" {
		p.ChartRef = realChart(t)
	}
	if p.Timeout == 0 {
		p.Timeout = 2 * time.Minute
	}
	return p
}

func (l *testLab) run(t *testing.T, p Parameters) (*Outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := Run(ctx, l.params(t, p))
	t.Logf("cilium_install state=%s mode=%s check=%v took %s", p.State, p.Mode, p.CheckMode, time.Since(start).Round(time.Millisecond))
	return out, err
}

func (l *testLab) mustRun(t *testing.T, p Parameters) *Outcome {
	t.Helper()
	out, err := l.run(t, p)
	if err != nil {
		t.Fatalf("cilium_install: %v", err)
	}
	return out
}

// footprint is what a run leaves in the cluster: Helm release records, the agent DaemonSet and the
// CiliumNodeConfig (absent ones as "").
type footprint struct {
	releases  string
	daemonSet string
	nodeCfg   string
}

func (l *testLab) footprint(t *testing.T) footprint {
	t.Helper()
	var fp footprint
	secrets, err := l.kube.CoreV1().Secrets("kube-system").List(t.Context(), metav1.ListOptions{LabelSelector: "owner=helm,name=cilium"})
	must(t, err)
	for _, s := range secrets.Items {
		fp.releases += s.Name + "@" + s.ResourceVersion + " "
	}
	if ds, err := l.kube.AppsV1().DaemonSets("kube-system").Get(t.Context(), "cilium", metav1.GetOptions{}); err == nil {
		fp.daemonSet = ds.ResourceVersion
	}
	if cnc, err := l.dyn.Resource(nodeConfigGVR("cilium.io/v2")).Namespace("kube-system").Get(t.Context(), "cilium-default", metav1.GetOptions{}); err == nil {
		fp.nodeCfg = cnc.GetResourceVersion()
	}
	return fp
}

func (l *testLab) assertUnchanged(t *testing.T, before footprint, what string) {
	t.Helper()
	if after := l.footprint(t); after != before {
		t.Errorf("%s changed the cluster: before %+v, after %+v", what, before, after)
	}
}

// addFullNode registers a node with room for no pod: the agent the DaemonSet creates for it stays
// Pending, like an agent that never comes up (kwok makes every scheduled pod ready).
func (l *testLab) addFullNode(t *testing.T, name string) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/os": "linux", "kubernetes.io/hostname": name}}}
	_, err := l.kube.CoreV1().Nodes().Create(t.Context(), n, metav1.CreateOptions{})
	must(t, err)
	t.Cleanup(func() { l.removeNode(t, name) })
	// kwok fills in the status of a new node (capacity included) once: patch after it did.
	waitFor(t, "kwok to take the node "+name, func() (bool, string) {
		n, err := l.kube.CoreV1().Nodes().Get(t.Context(), name, metav1.GetOptions{})
		return err == nil && len(n.Status.Conditions) > 0, "no conditions yet"
	})
	patch := `{"status":{"capacity":{"pods":"0"},"allocatable":{"pods":"0"}}}`
	_, err = l.kube.CoreV1().Nodes().Patch(t.Context(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	must(t, err)
	time.Sleep(time.Second)
	n, err = l.kube.CoreV1().Nodes().Get(t.Context(), name, metav1.GetOptions{})
	must(t, err)
	if pods := n.Status.Allocatable[corev1.ResourcePods]; !pods.IsZero() {
		t.Fatalf("node %s still has room for %s pods", name, pods.String())
	}
}

func (l *testLab) removeNode(t *testing.T, name string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	if err := l.kube.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete node %s: %v", name, err)
	}
	_ = l.kube.CoreV1().Pods("kube-system").DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)},
		metav1.ListOptions{FieldSelector: "spec.nodeName=" + name})
}

func joined(list []string) string { return strings.Join(list, "\n") }

func hasEnv(env []corev1.EnvVar, name, value string) bool {
	for _, e := range env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}
