package restart

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// mirrorPodAnnotation marks static pods' mirrors: the kubelet owns them, nothing can restart them.
const mirrorPodAnnotation = "kubernetes.io/config.mirror"

// transformFor returns the cache transform for a resource: pods are cut down to the fields the run
// reads; everything else loses its managedFields (often the largest part of an object).
func transformFor(res string) cache.TransformFunc {
	switch res {
	case resPods:
		return slimPod
	case KindDeployment, KindStatefulSet, KindDaemonSet:
		return slimWorkload
	}
	return dropManagedFields
}

// slimWorkload keeps a workload's metadata, status and the parts of its spec the plan and the
// rollout checks read; the pod template keeps its labels, annotations and hostNetwork only.
func slimWorkload(obj any) (any, error) {
	var tmpl *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *appsv1.Deployment:
		tmpl = &o.Spec.Template
	case *appsv1.StatefulSet:
		o.Spec.VolumeClaimTemplates = nil
		tmpl = &o.Spec.Template
	case *appsv1.DaemonSet:
		tmpl = &o.Spec.Template
	default:
		return dropManagedFields(obj)
	}
	tmpl.Spec = corev1.PodSpec{HostNetwork: tmpl.Spec.HostNetwork}
	m := obj.(metav1.Object)
	m.SetManagedFields(nil)
	m.SetAnnotations(nil) // last-applied-configuration can be as large as the object
	return obj, nil
}

func dropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              p.Name,
			Namespace:         p.Namespace,
			UID:               p.UID,
			ResourceVersion:   p.ResourceVersion,
			Labels:            p.Labels,
			OwnerReferences:   p.OwnerReferences,
			CreationTimestamp: p.CreationTimestamp,
			DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName, HostNetwork: p.Spec.HostNetwork},
		Status: corev1.PodStatus{
			Phase:      p.Status.Phase,
			Reason:     p.Status.Reason,
			Message:    p.Status.Message,
			PodIP:      p.Status.PodIP,
			PodIPs:     p.Status.PodIPs,
			Conditions: p.Status.Conditions,
		},
	}
	if v, ok := p.Annotations[mirrorPodAnnotation]; ok {
		out.Annotations = map[string]string{mirrorPodAnnotation: v}
	}
	for _, cs := range p.Status.ContainerStatuses {
		slim := corev1.ContainerStatus{Name: cs.Name, Ready: cs.Ready, RestartCount: cs.RestartCount}
		if w := cs.State.Waiting; w != nil {
			slim.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.Reason}
		}
		if t := cs.State.Terminated; t != nil {
			slim.State.Terminated = &corev1.ContainerStateTerminated{Reason: t.Reason, ExitCode: t.ExitCode}
		}
		out.Status.ContainerStatuses = append(out.Status.ContainerStatuses, slim)
	}
	return out, nil
}
