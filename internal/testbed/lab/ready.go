package lab

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// waitFor waits up to the lab's ReadyTimeout, and gives up at once when a control-plane process
// has died (nothing would change any more), naming it and quoting its log.
// pollInterval is how often the lab's waits look: a small lab's checks are a few GETs, and each
// wait on Up's path would otherwise cost half the interval on average; a large lab's checks are
// many GETs against a busy API server.
func (l *Lab) pollInterval() time.Duration {
	if l.cfg.Servers+l.cfg.Agents <= 10 {
		return 150 * time.Millisecond
	}
	return defaults.PollInterval
}

func (l *Lab) waitFor(ctx context.Context, what string, cond wait.Condition) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	err := wait.For(ctx, what, l.cfg.ReadyTimeout, l.pollInterval(), func(ctx context.Context) (bool, string, error) {
		if err := l.componentsAlive(); err != nil {
			cancel(err)
			return false, "", err
		}
		return cond(ctx)
	})
	if cause := context.Cause(ctx); err != nil && cause != nil && cause != context.Canceled {
		return fmt.Errorf("waiting for %s: %w", what, cause)
	}
	return err
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// waitCRDsEstablished waits until every CRD reports Established.
func (l *Lab) waitCRDsEstablished(ctx context.Context, crds []*unstructured.Unstructured) error {
	if len(crds) == 0 {
		return nil
	}
	return l.waitFor(ctx, fmt.Sprintf("%d CRDs established", len(crds)), func(ctx context.Context) (bool, string, error) {
		var pending []string
		for _, c := range crds {
			u, err := l.apply.dyn.Resource(crdGVR).Get(ctx, c.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if err := fromUnstructured(u, &crd); err != nil {
				return false, "", err
			}
			if !crdEstablished(&crd) {
				pending = append(pending, c.GetName())
			}
		}
		return len(pending) == 0, "not established: " + strings.Join(head(pending, 5), ", "), nil
	})
}

func crdEstablished(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established {
			return c.Status == apiextensionsv1.ConditionTrue
		}
	}
	return false
}

// waitCalico waits until calico-node runs Ready on every node and calico-kube-controllers is
// available, in the flavour's namespace.
func (l *Lab) waitCalico(ctx context.Context) error {
	ns := calicoNamespace(l.cfg.Calico)
	return l.waitFor(ctx, "Calico ready in "+ns, func(ctx context.Context) (bool, string, error) {
		ds, err := l.kube.AppsV1().DaemonSets(ns).Get(ctx, defaults.CalicoNodeDaemonSet, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		if ok, why := daemonSetReady(ds, len(l.nodes)); !ok {
			return false, why, nil
		}
		dep, err := l.kube.AppsV1().Deployments(ns).Get(ctx, "calico-kube-controllers", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		if ok, why := deploymentReady(dep); !ok {
			return false, why, nil
		}
		return true, "", nil
	})
}

func calicoNamespace(c Calico) string {
	if c == CalicoOperator {
		return defaults.CalicoSystemNamespace
	}
	return defaults.CalicoNamespace
}

// daemonSetReady: rolled out, with want pods (want < 0: whatever it schedules) all ready.
func daemonSetReady(ds *appsv1.DaemonSet, want int) (bool, string) {
	s := ds.Status
	desc := fmt.Sprintf("daemonset %s/%s: desired %d, updated %d, ready %d", ds.Namespace, ds.Name,
		s.DesiredNumberScheduled, s.UpdatedNumberScheduled, s.NumberReady)
	if want >= 0 && int(s.DesiredNumberScheduled) != want {
		return false, desc + fmt.Sprintf(" (want %d)", want)
	}
	ok := s.ObservedGeneration >= ds.Generation && s.DesiredNumberScheduled > 0 &&
		s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.NumberReady == s.DesiredNumberScheduled
	return ok, desc
}

func deploymentReady(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	desc := fmt.Sprintf("deployment %s/%s: %d/%d ready", d.Namespace, d.Name, s.ReadyReplicas, want)
	ok := s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.ReadyReplicas == want &&
		s.AvailableReplicas == want && s.Replicas == want
	return ok, desc
}

func statefulSetReady(s *appsv1.StatefulSet) (bool, string) {
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	st := s.Status
	desc := fmt.Sprintf("statefulset %s/%s: %d/%d ready", s.Namespace, s.Name, st.ReadyReplicas, want)
	ok := st.ObservedGeneration >= s.Generation && st.ReadyReplicas == want && st.UpdatedReplicas == want
	return ok, desc
}
