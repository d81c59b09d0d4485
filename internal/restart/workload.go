package restart

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// workload is what the plan needs to know about a Deployment, StatefulSet or DaemonSet.
type workload struct {
	Ref
	uid            types.UID
	labels         map[string]string
	templateLabels map[string]string
	hostNetwork    bool
	// evictReason is set when the controller would not replace pods on a template change.
	evictReason string
	desired     int32
	restartedAt time.Time // the template's restartedAt annotation, zero if absent
	obj         any
}

// asWorkload converts a cached object of one of the workload kinds.
func asWorkload(obj any) *workload {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		w := newWorkload(KindDeployment, &o.ObjectMeta, &o.Spec.Template, o)
		w.desired = replicas(o.Spec.Replicas)
		if o.Spec.Paused {
			w.evictReason = "the Deployment is paused, so a template change would not roll it"
		}
		return w
	case *appsv1.StatefulSet:
		w := newWorkload(KindStatefulSet, &o.ObjectMeta, &o.Spec.Template, o)
		w.desired = replicas(o.Spec.Replicas)
		us := o.Spec.UpdateStrategy
		switch {
		case us.Type == appsv1.OnDeleteStatefulSetStrategyType:
			w.evictReason = "update strategy OnDelete"
		case us.RollingUpdate != nil && us.RollingUpdate.Partition != nil && *us.RollingUpdate.Partition > 0:
			w.evictReason = fmt.Sprintf("rolling update partition %d would keep the pods below it", *us.RollingUpdate.Partition)
		}
		return w
	case *appsv1.DaemonSet:
		w := newWorkload(KindDaemonSet, &o.ObjectMeta, &o.Spec.Template, o)
		w.desired = o.Status.DesiredNumberScheduled
		if o.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
			w.evictReason = "update strategy OnDelete"
		}
		return w
	}
	return nil
}

func newWorkload(kind string, m *metav1.ObjectMeta, t *corev1.PodTemplateSpec, obj any) *workload {
	w := &workload{
		Ref:            Ref{Kind: kind, Namespace: m.Namespace, Name: m.Name},
		uid:            m.UID,
		labels:         m.Labels,
		templateLabels: t.Labels,
		hostNetwork:    t.Spec.HostNetwork,
		obj:            obj,
	}
	if ts, ok := t.Annotations[defaults.RestartedAtAnnot]; ok {
		w.restartedAt, _ = time.Parse(time.RFC3339, ts)
	}
	return w
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// isDNS reports whether the workload is the cluster DNS (kube-system, k8s-app=kube-dns).
func (w *workload) isDNS() bool {
	if w.Namespace != metav1.NamespaceSystem {
		return false
	}
	sel, err := labels.Parse(defaults.CoreDNSSelector)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(w.labels)) || sel.Matches(labels.Set(w.templateLabels))
}

// podID identifies one incarnation of a pod (StatefulSet pods come back under the same name).
type podID struct {
	Namespace, Name string
	UID             types.UID
	Created         time.Time
}

func idOf(p *corev1.Pod) podID {
	return podID{Namespace: p.Namespace, Name: p.Name, UID: p.UID, Created: p.CreationTimestamp.Time}
}

// live reports whether a pod counts: not being deleted and not finished.
func live(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func livePods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if live(p) {
			out = append(out, p)
		}
	}
	return out
}
