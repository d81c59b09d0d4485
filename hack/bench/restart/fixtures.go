package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// shape is the benchmark's cluster: per namespace, Deployments and StatefulSets of replicas pods.
type shape struct {
	namespaces, deployments, statefulSets, replicas int
	// minReady is the workloads' minReadySeconds: a new pod counts as available that long after it
	// is ready, so every rollout step takes real time, as pods that take seconds to start do.
	minReady int
}

func (s shape) workloads() int { return s.namespaces * (s.deployments + s.statefulSets) }
func (s shape) pods() int      { return s.workloads() * s.replicas }

func (s shape) names() []string {
	out := make([]string, s.namespaces)
	for i := range out {
		out[i] = fmt.Sprintf("bench-%d", i)
	}
	return out
}

// create makes the namespaces and workloads and waits until every pod is ready.
func (s shape) create(ctx context.Context, kube kubernetes.Interface) error {
	for _, ns := range s.names() {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create namespace %s: %w", ns, err)
		}
		for i := range s.deployments {
			if _, err := kube.AppsV1().Deployments(ns).Create(ctx, s.deployment(ns, fmt.Sprintf("app-%02d", i)), metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("create Deployment: %w", err)
			}
		}
		for i := range s.statefulSets {
			if _, err := kube.AppsV1().StatefulSets(ns).Create(ctx, s.statefulSet(ns, fmt.Sprintf("db-%d", i)), metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("create StatefulSet: %w", err)
			}
		}
	}
	return s.waitReady(ctx, kube)
}

func (s shape) template(name string) corev1.PodTemplateSpec {
	zero := int64(0)
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}},
			TerminationGracePeriodSeconds: &zero},
	}
}

func (s shape) deployment(ns, name string) *appsv1.Deployment {
	r := int32(s.replicas)
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{
		Replicas: &r, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, Template: s.template(name),
		MinReadySeconds: int32(s.minReady)}}
}

func (s shape) statefulSet(ns, name string) *appsv1.StatefulSet {
	r := int32(s.replicas)
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.StatefulSetSpec{
		Replicas: &r, ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
		Template: s.template(name), MinReadySeconds: int32(s.minReady)}}
}

// waitReady waits until every bench workload is rolled out (the identical starting state of each run).
func (s shape) waitReady(ctx context.Context, kube kubernetes.Interface) error {
	return wait.For(ctx, "bench workloads ready", 20*time.Minute, 2*time.Second, func(ctx context.Context) (bool, string, error) {
		ready := 0
		for _, ns := range s.names() {
			ds, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, "", err
			}
			for _, d := range ds.Items {
				st := d.Status
				if st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == int32(s.replicas) &&
					st.AvailableReplicas == int32(s.replicas) && st.Replicas == int32(s.replicas) {
					ready++
				}
			}
			ss, err := kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, "", err
			}
			for _, st := range ss.Items {
				if st.Status.ObservedGeneration >= st.Generation && st.Status.ReadyReplicas == int32(s.replicas) &&
					st.Status.CurrentRevision == st.Status.UpdateRevision {
					ready++
				}
			}
		}
		return ready == s.workloads(), fmt.Sprintf("%d/%d workloads ready", ready, s.workloads()), nil
	})
}

// apiRequests sums apiserver_request_total over all labels, from the API server's /metrics.
func apiRequests(ctx context.Context, kube kubernetes.Interface) (float64, error) {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the API server's /metrics: %w", err)
	}
	var total float64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			total += v
		}
	}
	return total, sc.Err()
}
