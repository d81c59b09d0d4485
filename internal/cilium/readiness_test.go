package cilium

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// agents builds the agent DaemonSet (current revision hash "new"), its ControllerRevisions, and one
// agent pod per entry of pods (node → revision hash, ready).
func agents(desired, ready, updated int32, pods map[string]struct {
	hash  string
	ready bool
}) []runtime.Object {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "cilium", Namespace: "kube-system", UID: "ds-uid", Generation: 2},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "cilium"}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{NodeSelector: map[string]string{"kubernetes.io/os": "linux"}}},
		},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 2, DesiredNumberScheduled: desired, NumberReady: ready,
			UpdatedNumberScheduled: updated, NumberAvailable: ready},
	}
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "cilium", UID: "ds-uid", Controller: ptr.To(true)}}
	objs := []runtime.Object{ds}
	for i, hash := range []string{"old", "new"} {
		objs = append(objs, &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "cilium-" + hash, Namespace: "kube-system",
			Labels: map[string]string{"k8s-app": "cilium", "controller-revision-hash": hash}, OwnerReferences: owner}, Revision: int64(i + 1)})
	}
	for nodeName, p := range pods {
		status := corev1.ConditionFalse
		if p.ready {
			status = corev1.ConditionTrue
		}
		objs = append(objs, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "cilium-" + nodeName, Namespace: "kube-system",
				Labels: map[string]string{"k8s-app": "cilium", "controller-revision-hash": p.hash}},
			Spec:   corev1.PodSpec{NodeName: nodeName},
			Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
		})
	}
	return objs
}

func operatorDeployment(available int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "cilium-operator", Namespace: "kube-system", Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(2))},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: available},
	}
}

type agentPod = struct {
	hash  string
	ready bool
}

func TestWaitReady(t *testing.T) {
	t.Parallel()
	nodes := []runtime.Object{node("k3s-server-0", "10.42.0.0/24", nil), node("k3s-agent-0", "10.42.1.0/24", nil), node("k3s-agent-1", "10.42.2.0/24", nil)}
	var crds []runtimeUnstructured
	for _, name := range requiredCRDs {
		crds = append(crds, ciliumCRD(name, "v2"))
	}
	cases := []struct {
		name      string
		objs      []runtime.Object
		noCRDs    bool
		wantErr   []string
		wantNodes []string
	}{
		{"all ready", append(agents(3, 3, 3, map[string]agentPod{"k3s-server-0": {"new", true}, "k3s-agent-0": {"new", true}, "k3s-agent-1": {"new", true}}),
			operatorDeployment(2)), false, nil, []string{}},
		{"one agent not ready, one on the old revision",
			append(agents(3, 2, 2, map[string]agentPod{"k3s-server-0": {"new", true}, "k3s-agent-0": {"new", false}, "k3s-agent-1": {"old", true}}),
				operatorDeployment(2)), false,
			[]string{"2/3 ready, 2/3 updated", "no ready agent on node(s): k3s-agent-0, k3s-agent-1"}, []string{"k3s-agent-0", "k3s-agent-1"}},
		{"a node without an agent pod, operator unavailable",
			append(agents(3, 2, 3, map[string]agentPod{"k3s-server-0": {"new", true}, "k3s-agent-0": {"new", true}}), operatorDeployment(1)), false,
			[]string{"no ready agent on node(s): k3s-agent-1", "operator (Deployment kube-system/cilium-operator): 1/2 available"}, []string{"k3s-agent-1"}},
		{"CRDs never registered", append(agents(3, 3, 3, map[string]agentPod{"k3s-server-0": {"new", true}, "k3s-agent-0": {"new", true}, "k3s-agent-1": {"new", true}}),
			operatorDeployment(2)), true, []string{"CRDs not registered (by cilium-operator): ciliumnodes.cilium.io"}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			untyped := crds
			if tc.noCRDs {
				untyped = nil
			}
			f := newFakeCluster(t, append(append([]runtime.Object{}, nodes...), tc.objs...), untyped...)
			check := &readinessCheck{kube: f.kube, dyn: f.dyn, namespace: "kube-system", crds: requiredCRDs, operator: true}
			err := waitReady(t.Context(), check, 600*time.Millisecond)
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("waitReady: %v", err)
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("timeout message %v does not say %q", err, w)
				}
			}
			r, _, err := agentReadiness(t.Context(), f.kube, "kube-system")
			must(t, err)
			if !reflect.DeepEqual(r.NotReadyNodes, tc.wantNodes) {
				t.Errorf("not_ready_nodes = %v, want %v", r.NotReadyNodes, tc.wantNodes)
			}
		})
	}
}

func TestManifestSummary(t *testing.T) {
	t.Parallel()
	before := `---
# Source: cilium/templates/a.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config}
data: {tunnel-port: "8473"}
---
apiVersion: v1
kind: Secret
metadata: {name: hubble-server-certs, labels: {cilium.io/helm-template-non-idempotent: "true"}}
data: {tls.key: AAAA}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cilium-old}
`
	after := `---
apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config}
data: {tunnel-port: "9000"}
---
apiVersion: v1
kind: Secret
metadata: {name: hubble-server-certs, labels: {cilium.io/helm-template-non-idempotent: "true"}}
data: {tls.key: BBBB}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: cilium, namespace: kube-system}
`
	s, err := summarizeManifests(before, after, "kube-system")
	must(t, err)
	want := &ManifestSummary{Added: []string{"ServiceAccount/kube-system/cilium"}, Changed: []string{"ConfigMap/kube-system/cilium-config"},
		Removed: []string{"ClusterRole/cilium-old"}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("summary = %+v, want %+v", s, want)
	}
	b, a := s.diffText(before, after, "kube-system")
	if !strings.Contains(a, "ConfigMap/kube-system/cilium-config  (changed)") || !strings.Contains(b, "ClusterRole/cilium-old") {
		t.Errorf("diff text:\n%s---\n%s", b, a)
	}
}
