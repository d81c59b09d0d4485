package restart

import (
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// errRolloutStuck marks a rollout that the controller itself declared failed.
var errRolloutStuck = errors.New("rollout failed")

// rolloutStatus says whether a rolling restart is complete, with `kubectl rollout status`
// semantics (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), and what is still missing.
// minGeneration is the generation the restart patch produced: until the controller has observed it,
// the status describes the previous template. An error means the rollout will not finish by itself.
func rolloutStatus(obj any, minGeneration int64) (bool, string, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return deploymentStatus(o, minGeneration)
	case *appsv1.StatefulSet:
		return statefulSetStatus(o, minGeneration)
	case *appsv1.DaemonSet:
		return daemonSetStatus(o, minGeneration)
	}
	return false, "", fmt.Errorf("no rollout status for %T", obj)
}

func deploymentStatus(d *appsv1.Deployment, minGen int64) (bool, string, error) {
	st := d.Status
	if d.Generation < minGen || st.ObservedGeneration < d.Generation {
		return false, "waiting for the Deployment controller to observe the restart", nil
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return false, "", fmt.Errorf("%w: progress deadline (%ds) exceeded: %s", errRolloutStuck, progressDeadline(d), c.Message)
		}
	}
	want := replicas(d.Spec.Replicas)
	switch {
	case st.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d new replicas updated", st.UpdatedReplicas, want), nil
	case st.Replicas > st.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas), nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return false, fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas), nil
	}
	return true, fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, want), nil
}

func progressDeadline(d *appsv1.Deployment) int32 {
	if d.Spec.ProgressDeadlineSeconds == nil {
		return 600
	}
	return *d.Spec.ProgressDeadlineSeconds
}

func statefulSetStatus(s *appsv1.StatefulSet, minGen int64) (bool, string, error) {
	st := s.Status
	if s.Generation < minGen || st.ObservedGeneration == 0 || st.ObservedGeneration < s.Generation {
		return false, "waiting for the StatefulSet controller to observe the restart", nil
	}
	want := replicas(s.Spec.Replicas)
	if st.ReadyReplicas < want {
		return false, fmt.Sprintf("%d of %d pods ready", st.ReadyReplicas, want), nil
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		if st.UpdatedReplicas < want-*ru.Partition {
			return false, fmt.Sprintf("%d of %d pods above partition %d updated", st.UpdatedReplicas, want-*ru.Partition, *ru.Partition), nil
		}
		return true, fmt.Sprintf("partitioned roll out complete: %d new pods", st.UpdatedReplicas), nil
	}
	if st.UpdateRevision != st.CurrentRevision {
		return false, fmt.Sprintf("%d pods at revision %s, rolling update in progress", st.UpdatedReplicas, st.UpdateRevision), nil
	}
	return true, fmt.Sprintf("%d pods at revision %s", st.CurrentReplicas, st.CurrentRevision), nil
}

func daemonSetStatus(d *appsv1.DaemonSet, minGen int64) (bool, string, error) {
	st := d.Status
	if d.Generation < minGen || st.ObservedGeneration < d.Generation {
		return false, "waiting for the DaemonSet controller to observe the restart", nil
	}
	if st.UpdatedNumberScheduled < st.DesiredNumberScheduled {
		return false, fmt.Sprintf("%d of %d new pods scheduled", st.UpdatedNumberScheduled, st.DesiredNumberScheduled), nil
	}
	if st.NumberAvailable < st.DesiredNumberScheduled {
		return false, fmt.Sprintf("%d of %d updated pods available", st.NumberAvailable, st.DesiredNumberScheduled), nil
	}
	return true, fmt.Sprintf("%d of %d pods available", st.NumberAvailable, st.DesiredNumberScheduled), nil
}

// generationOf returns the generation of a cached workload object.
func generationOf(obj any) int64 {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return o.Generation
	case *appsv1.StatefulSet:
		return o.Generation
	case *appsv1.DaemonSet:
		return o.Generation
	}
	return 0
}

// podsSummary describes a workload's pods for a failure message: "1/2 ready; not ready: web-abc
// Pending (Unschedulable: 0/3 nodes are available...)".
func podsSummary(pods []*corev1.Pod, desired int32) string {
	pods = livePods(pods)
	nReady := 0
	var notReady []string
	for _, p := range pods {
		if ready(p) {
			nReady++
			continue
		}
		if len(notReady) < 3 {
			notReady = append(notReady, p.Name+" "+podProblem(p))
		}
	}
	s := fmt.Sprintf("%d/%d ready", nReady, desired)
	if len(notReady) > 0 {
		s += "; not ready: " + joinMore(notReady, len(pods)-nReady)
	}
	return s
}

func joinMore(items []string, total int) string {
	s := strings.Join(items, ", ")
	if total > len(items) {
		s += fmt.Sprintf(" and %d more", total-len(items))
	}
	return s
}

// podProblem says why a pod is not ready: its phase and the most telling reason.
func podProblem(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return fmt.Sprintf("%s (%s)", p.Status.Phase, w.Reason)
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Reason != "" {
			msg := c.Reason
			if c.Message != "" {
				msg += ": " + truncate(c.Message, maxMessage)
			}
			return fmt.Sprintf("%s (%s)", p.Status.Phase, msg)
		}
	}
	if p.Status.Reason != "" {
		return fmt.Sprintf("%s (%s)", p.Status.Phase, p.Status.Reason)
	}
	if p.Status.Phase == "" {
		return "Pending"
	}
	return string(p.Status.Phase)
}

// maxMessage bounds messages quoted from the cluster (scheduler messages run long).
const maxMessage = 160

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
