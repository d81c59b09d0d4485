package lab_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// With PodStartDelay, a new pod is first seen starting (Pending, with an IP, its container
// "ContainerCreating"), the way kubelet reports it, and only later Ready — not Ready at once.
func TestIntegrationPodStartDelay(t *testing.T) {
	cfg := lab.Defaults()
	cfg.Hosts, cfg.Workloads, cfg.Calico, cfg.Servers, cfg.Agents = false, false, lab.CalicoNone, 1, 0
	cfg.PodStartDelay = 4 * time.Second
	l := labtest.Start(t, cfg)
	kube := kubernetes.NewForConfigOrDie(l.RESTConfig())
	ctx := t.Context()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "slow-start", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
	}
	if _, err := kube.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var sawStarting bool
	err := wait.For(ctx, "pod slow-start Ready", time.Minute, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		p, err := kube.CoreV1().Pods("default").Get(ctx, "slow-start", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		if podStarting(p) {
			sawStarting = true
		}
		return podIsReady(p), string(p.Status.Phase), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawStarting {
		t.Error("the pod went Ready without a starting phase: the general stages are not in use")
	}
}

func podStarting(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodPending || p.Status.PodIP == "" || len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	w := p.Status.ContainerStatuses[0].State.Waiting
	return w != nil && w.Reason == "ContainerCreating"
}

func podIsReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
