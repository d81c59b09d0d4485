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

// applyLoad applies the extra pods' Deployments (Config.ExtraPods) as soon as the nodes are Ready:
// kube-controller-manager creates their pods at its client rate limit (20 requests/s by default,
// ~100 s for 2,000 pods), so they are started before Calico and the workloads rather than after
// them; waitWorkloads waits for them with the rest.
func (l *Lab) applyLoad(ctx context.Context) error {
	l.load = loadObjects(l.cfg.ExtraPods)
	return l.applyObjects(ctx, "extra pods' Deployments applied", l.load)
}

// applyWorkloads applies the ML-platform workloads (and Calico policies); waitWorkloads waits
// until every workload, the extra pods' too, is ready.
func (l *Lab) applyWorkloads(ctx context.Context) error {
	wl, err := workloadObjects("workloads")
	if err != nil {
		return err
	}
	if l.cfg.Calico != CalicoNone {
		pol, err := workloadObjects("calico-policies")
		if err != nil {
			return err
		}
		wl = append(wl, pol...)
	}
	l.wl = wl
	return l.applyObjects(ctx, "workloads applied", wl)
}

func (l *Lab) waitWorkloads(ctx context.Context) error {
	objs := append(append([]*unstructured.Unstructured(nil), l.wl...), l.load...)
	return l.waitFor(ctx, "workloads ready", func(ctx context.Context) (bool, string, error) {
		return l.workloadsReady(ctx, objs)
	})
}

// applyObjects applies objs, retrying while their namespaces' default ServiceAccounts do not exist
// yet: pods are admitted only once kube-controller-manager has created it, a moment after the
// namespace.
func (l *Lab) applyObjects(ctx context.Context, what string, objs []*unstructured.Unstructured) error {
	if len(objs) == 0 {
		return nil
	}
	return l.waitFor(ctx, what, func(ctx context.Context) (bool, string, error) {
		err := l.apply.apply(ctx, objs)
		if err != nil && (apierrors.IsForbidden(err) || strings.Contains(err.Error(), "serviceaccount")) {
			return false, err.Error(), nil
		}
		return err == nil, "", err
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
