package lab

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// manifests holds the workloads (manifests/workloads, in file order) and Calico's own policies
// (manifests/calico-policies, applied only when Calico is installed).
//
//go:embed manifests
var manifests embed.FS

// workloadObjects decodes the embedded manifests of one directory, in file-name order.
func workloadObjects(dir string) ([]*unstructured.Unstructured, error) {
	entries, err := fs.ReadDir(manifests, path.Join("manifests", dir))
	if err != nil {
		return nil, fmt.Errorf("embedded manifests %s: %w", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, e := range entries {
		data, err := manifests.ReadFile(path.Join("manifests", dir, e.Name()))
		if err != nil {
			return nil, err
		}
		o, err := decodeYAML(data)
		if err != nil {
			return nil, fmt.Errorf("embedded manifest %s: %w", e.Name(), err)
		}
		objs = append(objs, o...)
	}
	return objs, nil
}

// installWorkloads applies the ML-platform workloads (and Calico policies) and waits until every
// workload is ready.
func (l *Lab) installWorkloads(ctx context.Context) error {
	var objs []*unstructured.Unstructured
	if l.cfg.Workloads {
		wl, err := workloadObjects("workloads")
		if err != nil {
			return err
		}
		objs = append(objs, wl...)
		if l.cfg.Calico != CalicoNone {
			pol, err := workloadObjects("calico-policies")
			if err != nil {
				return err
			}
			objs = append(objs, pol...)
		}
	}
	objs = append(objs, loadObjects(l.cfg.ExtraPods)...)
	// Pods are admitted only once their namespace's default ServiceAccount exists, which
	// kube-controller-manager creates a moment after the namespace: retry until it does.
	err := l.waitFor(ctx, "workloads applied", func(ctx context.Context) (bool, string, error) {
		err := l.apply.apply(ctx, objs)
		if err != nil && (apierrors.IsForbidden(err) || strings.Contains(err.Error(), "serviceaccount")) {
			return false, err.Error(), nil
		}
		return err == nil, "", err
	})
	if err != nil {
		return err
	}
	return l.waitFor(ctx, "workloads ready", func(ctx context.Context) (bool, string, error) {
		return l.workloadsReady(ctx, objs)
	})
}

// workloadsReady checks each Deployment, StatefulSet, DaemonSet and bare Pod of objs.
func (l *Lab) workloadsReady(ctx context.Context, objs []*unstructured.Unstructured) (bool, string, error) {
	var notReady []string
	for _, u := range objs {
		ok, why, err := l.objectReady(ctx, u)
		if err != nil {
			return false, "", err
		}
		if !ok {
			notReady = append(notReady, why)
		}
	}
	if len(notReady) > 0 {
		return false, fmt.Sprintf("%d not ready: %s", len(notReady), strings.Join(head(notReady, 4), "; ")), nil
	}
	return true, "", nil
}

func (l *Lab) objectReady(ctx context.Context, u *unstructured.Unstructured) (bool, string, error) {
	ns, name := u.GetNamespace(), u.GetName()
	get := metav1.GetOptions{}
	switch u.GetKind() {
	case "Deployment":
		d, err := l.kube.AppsV1().Deployments(ns).Get(ctx, name, get)
		if err != nil {
			return false, "", err
		}
		ok, why := deploymentReady(d)
		return ok, why, nil
	case "StatefulSet":
		s, err := l.kube.AppsV1().StatefulSets(ns).Get(ctx, name, get)
		if err != nil {
			return false, "", err
		}
		ok, why := statefulSetReady(s)
		return ok, why, nil
	case "DaemonSet":
		d, err := l.kube.AppsV1().DaemonSets(ns).Get(ctx, name, get)
		if err != nil {
			return false, "", err
		}
		ok, why := daemonSetReady(d, len(l.nodes))
		return ok, why, nil
	case "Pod":
		p, err := l.kube.CoreV1().Pods(ns).Get(ctx, name, get)
		if err != nil {
			return false, "", err
		}
		return podReady(p), fmt.Sprintf("pod %s/%s: %s", ns, name, p.Status.Phase), nil
	}
	return true, "", nil
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
