package cluster

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/calico/calicotest"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// labRun is one lab under test: its clients and a way to run the module against it.
type labRun struct {
	lab     *lab.Lab
	c       Clients
	bin     string
	backup  string
	timeout int64
}

func startLab(t *testing.T, flavour lab.Calico) *labRun {
	t.Helper()
	cfg := lab.Defaults()
	cfg.Calico, cfg.Hosts, cfg.Workloads = flavour, false, true
	cfg.OperatorIdle = true // the tests of a stuck Installation need an operator that does nothing
	l := labtest.Start(t, cfg)
	cl, err := k8s.FromConfig(l.RESTConfig(), l.Kubeconfig())
	mustNot(t, err)
	return &labRun{lab: l, c: Clients{Kube: cl.Kube, Dynamic: cl.Dynamic}, bin: calicotest.Module(t),
		backup: filepath.Join(t.TempDir(), "backup"), timeout: 60}
}

// run runs the module as Ansible would, scope=cluster against this lab, with extra options.
func (r *labRun) run(t *testing.T, extra map[string]any) calicotest.Result {
	t.Helper()
	opts := map[string]any{"scope": "cluster", "kubeconfig": r.lab.Kubeconfig(), "backup_dir": r.backup, "timeout": r.timeout}
	for k, v := range extra {
		opts[k] = v
	}
	return calicotest.Run(t, r.bin, opts)
}

// startCilium deploys a Cilium agent DaemonSet (kwok runs its pods) and waits until the module's
// own precondition holds.
func (r *labRun) startCilium(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"k8s-app": "cilium"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium", Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers:  []corev1.Container{{Name: "cilium-agent", Image: "quay.io/cilium/cilium:v1.20.2"}},
				},
			},
		},
	}
	// Under load client-go may retry a create the server already carried out.
	if _, err := r.c.Kube.AppsV1().DaemonSets("kube-system").Create(ctx, ds, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	err := wait.For(ctx, "the Cilium agent to be ready on every lab node", 2*time.Minute, 0,
		func(ctx context.Context) (bool, string, error) {
			if err := ciliumReady(ctx, r.c.Kube, "kube-system", "cilium"); err != nil {
				return false, err.Error(), nil
			}
			return true, "", nil
		})
	mustNot(t, err)
}

// calicoLeft returns what of Calico the lab still holds, as the module sees it, plus calico pods.
func (r *labRun) calicoLeft(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	inv, err := discover(ctx, r.c.Dynamic)
	mustNot(t, err)
	var left []string
	for _, e := range entries(buildPlan(inv)) {
		left = append(left, e.Object)
	}
	for _, ns := range []string{"kube-system", "calico-system"} {
		pods, err := r.c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=calico-node"})
		mustNot(t, err)
		for _, p := range pods.Items {
			left = append(left, "pod "+p.Namespace+"/"+p.Name)
		}
	}
	return left
}

func (r *labRun) count(t *testing.T, ko KindObjects) int {
	t.Helper()
	objs, err := listAll(context.Background(), r.c.Dynamic, ko.GVR, "")
	mustNot(t, err)
	return len(objs)
}

func resultList(res calicotest.Result, key string) []map[string]any {
	var out []map[string]any
	for _, e := range res.List(key) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
