package health

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

func pod(ns, name, node, ip string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name)},
		Spec:   corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func readyNode(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

func agentDS(ns, name string, desired int32) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("ds-" + name), Generation: 1},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": name}}},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: desired, UpdatedNumberScheduled: desired,
			NumberReady: desired, NumberAvailable: desired},
	}
}

func agentPod(ds *appsv1.DaemonSet, node string, ready bool) *corev1.Pod {
	return pod(ds.Namespace, ds.Name+"-"+node, node, "", func(p *corev1.Pod) {
		p.Labels = ds.Spec.Selector.MatchLabels
		p.Spec.HostNetwork = true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "DaemonSet", Name: ds.Name, UID: ds.UID}}
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	})
}

func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		ciliumEndpointsGVR: "CiliumEndpointList", calicoIPPoolsGVR: "IPPoolList"}, objs...)
}

func cep(ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("cilium.io/v2")
	u.SetKind("CiliumEndpoint")
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

func ipPool(cidr string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"cidr": cidr}}}
	u.SetAPIVersion("crd.projectcalico.org/v1")
	u.SetKind("IPPool")
	u.SetName("default-ipv4-ippool")
	return u
}

func run(t *testing.T, objs []runtime.Object, dynObjs []runtime.Object, cni string, checks ...string) *Outcome {
	t.Helper()
	enabled := map[string]bool{}
	for _, c := range checks {
		enabled[c] = true
	}
	out, err := Run(context.Background(), Config{Kube: fake.NewClientset(objs...), Dynamic: fakeDynamic(dynObjs...), CNI: cni, Enabled: enabled})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPodsPerCNI(t *testing.T) {
	t.Parallel()
	calico, cilium := agentDS("kube-system", "calico-node", 1), agentDS("kube-system", "cilium", 1)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium-config"},
		Data: map[string]string{"cluster-pool-ipv4-cidr": "10.245.0.0/16"}}
	objs := []runtime.Object{readyNode("n1"), cm,
		pod("ml", "on-calico", "n1", "10.42.0.5"),
		pod("ml", "in-cilium-cidr", "n1", "10.245.1.3"),
		pod("ml", "has-endpoint", "n1", "10.42.1.9"),
		pod("kube-system", "host", "n1", "192.0.2.1", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		pod("ml", "pending", "n1", "", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
	}
	dyn := []runtime.Object{cep("ml", "has-endpoint"), ipPool("10.42.0.0/16")}

	mixed := run(t, append(objs, calico, cilium), dyn, CNIAuto, CheckPods)
	if e := mixed.Entries[0]; e.Status != result.Passed || e.Observed != "2/3 pods managed by Cilium, 1 by Calico" {
		t.Errorf("mixed phase: %+v", e)
	}
	if p := mixed.Pods; p == nil || *p != (result.PodCount{Total: 3, Cilium: 2, Calico: 1}) {
		t.Errorf("pod count %+v", p)
	}
	done := run(t, append(objs, cilium), dyn, CNIAuto, CheckPods)
	if e := done.Entries[0]; e.Status != result.Failed || !strings.Contains(e.Error, "ml/on-calico (10.42.0.5)") {
		t.Errorf("Cilium only: an unmanaged pod must fail by name: %+v", e)
	}
}

func TestAgentsNameNodesWithoutReadyAgent(t *testing.T) {
	t.Parallel()
	calico := agentDS("calico-system", "calico-node", 3)
	cilium := agentDS("kube-system", "cilium", 1)
	objs := []runtime.Object{readyNode("n1"), readyNode("n2"), readyNode("n3"), calico, cilium,
		agentPod(calico, "n1", true), agentPod(calico, "n2", true), agentPod(calico, "n3", true),
		agentPod(cilium, "n1", true), agentPod(cilium, "n2", false)}
	out := run(t, objs, nil, CNIAuto, CheckAgents)
	if strings.Join(out.CNI, ",") != "calico,cilium" || len(out.Entries) != 2 {
		t.Fatalf("auto must check both agents during a migration: %v %+v", out.CNI, out.Entries)
	}
	if e := out.Entries[0]; e.Name != "cni-agent/calico" || e.Status != result.Passed {
		t.Errorf("calico (operator install, calico-system): %+v", e)
	}
	e := out.Entries[1]
	if e.Status != result.Failed || !strings.Contains(e.Error, "no ready cilium pod on 2/3 nodes: n2, n3") {
		t.Errorf("cilium on one node of three: %+v", e)
	}
	if strings.Join(e.Details, "|") != "n2 (pod cilium-n2 not ready: Running)|n3 (no cilium pod scheduled there)" {
		t.Errorf("details %q", e.Details)
	}
	named := run(t, []runtime.Object{readyNode("n1")}, nil, CNICilium, CheckAgents)
	if e := named.Entries[0]; e.Status != result.Failed || !strings.Contains(e.Error, "cni is cilium but DaemonSet kube-system/cilium does not exist") {
		t.Errorf("named CNI missing: %+v", e)
	}
	none := run(t, []runtime.Object{readyNode("n1")}, nil, CNIAuto, CheckAgents)
	if e := none.Entries[0]; e.Status != result.Failed || !strings.Contains(e.Error, "no CNI agent DaemonSet found") {
		t.Errorf("no CNI at all: %+v", e)
	}
}

func TestSandboxErrors(t *testing.T) {
	t.Parallel()
	creating := func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
	}
	ev := func(name, podName, reason, msg string) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: name}, Type: corev1.EventTypeWarning,
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ml", Name: podName}, Reason: reason, Message: msg}
	}
	objs := []runtime.Object{readyNode("n1"),
		pod("ml", "broken", "n1", "", creating),
		pod("ml", "pulling", "n1", "", creating),
		pod("ml", "fine", "n1", "10.42.0.7"),
		ev("e1", "broken", "FailedCreatePodSandBox", `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory`),
		ev("e2", "pulling", "Failed", `Failed to pull image "x": not found`),
	}
	e := run(t, objs, nil, CNIAuto, CheckSandbox).Entries[0]
	if e.Status != result.Failed || e.Error != "pods stuck on sandbox/CNI errors: ml/broken" || e.Observed != "2 pods in ContainerCreating, 1 with sandbox/CNI errors" {
		t.Errorf("sandbox check: %+v", e)
	}
	if len(e.Details) != 1 || !strings.Contains(e.Details[0], "ml/broken on n1: FailedCreatePodSandBox: Failed to create pod sandbox") {
		t.Errorf("details %q", e.Details)
	}
}

func TestServicesWithoutEndpoints(t *testing.T) {
	t.Parallel()
	no := false
	svc := func(name string, selector map[string]string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: name}, Spec: corev1.ServiceSpec{Selector: selector}}
	}
	slice := func(name, svcName string, ready *bool) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.42.0.9"}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}}}
	}
	objs := []runtime.Object{readyNode("n1"),
		svc("served", map[string]string{"app": "a"}), slice("served-1", "served", nil),
		svc("unready", map[string]string{"app": "b"}), slice("unready-1", "unready", &no),
		svc("empty", map[string]string{"app": "c"}),
		svc("manual", nil),
	}
	e := run(t, objs, nil, CNIAuto, CheckServices).Entries[0]
	if e.Status != result.Failed || e.Error != "Services without ready endpoints: ml/empty, ml/unready" || e.Observed != "1/3 Services with a selector have ready endpoints" {
		t.Errorf("services: %+v", e)
	}
}
