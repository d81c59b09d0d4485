package health

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// sandboxReasons are the kubelet event reasons of a pod whose network could not be set up.
var sandboxReasons = map[string]bool{"FailedCreatePodSandBox": true, "NetworkNotReady": true, "FailedKillPodSandbox": true}

// cniWords mark other events whose message is a CNI error.
var cniWords = []string{"cni", "network plugin", "networkplugin", "failed to set up sandbox", "failed to setup network"}

// checkSandbox lists pods stuck in ContainerCreating whose events show sandbox/CNI errors.
func checkSandbox(ctx context.Context, kube kubernetes.Interface, pods []corev1.Pod, podsErr error) result.Entry {
	e := entry(CheckSandbox)
	if podsErr != nil {
		return failed(e, podsErr.Error())
	}
	stuck := map[string][]*corev1.Pod{} // namespace → pods
	n := 0
	for i := range pods {
		if creating(&pods[i]) {
			stuck[pods[i].Namespace] = append(stuck[pods[i].Namespace], &pods[i])
			n++
		}
	}
	var broken []string
	for ns, list := range stuck {
		found, err := cniEvents(ctx, kube, ns, list)
		if err != nil {
			return failed(e, err.Error())
		}
		broken = append(broken, found...)
	}
	sort.Strings(broken)
	e.Observed = fmt.Sprintf("%d pods in ContainerCreating, %d with sandbox/CNI errors", n, len(broken))
	if len(broken) > 0 {
		e.Details = limit(broken, 50)
		names := make([]string, len(broken))
		for i, b := range broken {
			names[i] = strings.SplitN(b, " ", 2)[0]
		}
		return failed(e, "pods stuck on sandbox/CNI errors: "+strings.Join(limit(names, 20), ", "))
	}
	return e
}

// creating reports whether a scheduled pod is still waiting for its containers to be created.
func creating(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodPending || p.Spec.NodeName == "" {
		return false
	}
	statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	if len(statuses) == 0 {
		return true
	}
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && (w.Reason == "ContainerCreating" || w.Reason == "PodInitializing") {
			return true
		}
	}
	return false
}

// cniEvents returns "ns/pod on node: Reason: message" for each stuck pod with a sandbox/CNI event.
func cniEvents(ctx context.Context, kube kubernetes.Interface, ns string, pods []*corev1.Pod) ([]string, error) {
	events, err := kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Pod"})
	if err != nil {
		return nil, fmt.Errorf("list events in %s: %w", ns, err)
	}
	latest := map[string]corev1.Event{}
	for _, ev := range events.Items {
		if !cniEvent(&ev) {
			continue
		}
		key := ev.InvolvedObject.Name
		if prev, ok := latest[key]; !ok || prev.LastTimestamp.Before(&ev.LastTimestamp) {
			latest[key] = ev
		}
	}
	var out []string
	for _, p := range pods {
		ev, ok := latest[p.Name]
		if !ok || (ev.InvolvedObject.UID != "" && ev.InvolvedObject.UID != p.UID) {
			continue
		}
		msg := ev.Message
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		out = append(out, fmt.Sprintf("%s/%s on %s: %s: %s", p.Namespace, p.Name, p.Spec.NodeName, ev.Reason, msg))
	}
	return out, nil
}

func cniEvent(ev *corev1.Event) bool {
	if sandboxReasons[ev.Reason] {
		return true
	}
	if ev.Type != corev1.EventTypeWarning {
		return false
	}
	lower := strings.ToLower(ev.Message)
	for _, w := range cniWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
