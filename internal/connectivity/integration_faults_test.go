package connectivity

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// nodeNotReady makes a node report Ready=False the way a kubelet whose CNI broke does, and binds a
// pod to it that is stuck on a FailedCreatePodSandBox event. kwok answers for every node of the lab
// and would set Ready back at once, so the lab's own kwok controller is paused meanwhile (nobody
// heartbeats the node, as when its kubelet is gone).
func (e *labEnv) nodeNotReady(t *testing.T) {
	name := e.nodes[len(e.nodes)-1].Name
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "stuck-test"}}
	if _, err := e.kube.CoreV1().Namespaces().Create(e.ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.kube.CoreV1().Namespaces().Delete(e.ctx, "stuck-test", metav1.DeleteOptions{}) })
	e.pauseKwok(t) // resumed by t.Cleanup before the namespace is deleted
	patch := []byte(`{"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady",` +
		`"message":"container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"}]}}`)
	if _, err := e.kube.CoreV1().Nodes().Patch(e.ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "stuck-test", Name: "app"},
		Spec: corev1.PodSpec{NodeName: name, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
	created, err := e.kube.CoreV1().Pods("stuck-test").Create(e.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "stuck-test", Name: "app.sandbox"}, Type: corev1.EventTypeWarning,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "stuck-test", Name: "app", UID: created.UID},
		Reason:         "FailedCreatePodSandBox", Source: corev1.EventSource{Component: "kubelet", Host: name},
		Message:        `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "4f2a": plugin type="calico" failed (add): error getting ClusterInformation: connection is unauthorized`,
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 3}
	if _, err := e.kube.CoreV1().Events("stuck-test").Create(e.ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	r := e.health(t, "auto")
	logEntries(t, r)
	nodes := entryNamed(t, r.Checks, "nodes")
	if nodes.Status != result.Failed || !strings.Contains(nodes.Error, name+" (Ready=False, KubeletNotReady: container runtime network not ready") ||
		nodes.Observed != fmt.Sprintf("%d/%d nodes Ready", len(e.nodes)-1, len(e.nodes)) {
		t.Errorf("nodes: %+v", nodes)
	}
	sb := entryNamed(t, r.Checks, "sandbox-errors")
	if sb.Status != result.Failed || sb.Error != "pods stuck on sandbox/CNI errors: stuck-test/app" ||
		!strings.Contains(strings.Join(sb.Details, "\n"), "stuck-test/app on "+name+": FailedCreatePodSandBox:") {
		t.Errorf("sandbox errors: %+v", sb)
	}
	if dns := entryNamed(t, r.Checks, "coredns"); dns.Status != result.Passed {
		t.Errorf("an unrelated check stays green: %+v", dns)
	}
}

// pauseKwok stops the lab's kwok controller (a process this test's lab started) until the test ends.
func (e *labEnv) pauseKwok(t *testing.T) {
	t.Helper()
	pidFile := filepath.Join(e.lab.WorkDir(), "kwok", "clusters", e.lab.Name(), "pids", "kwok-controller.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("kwok controller pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("kwok controller pid file %s: %v", pidFile, err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "kwok") || !strings.Contains(string(cmdline), e.lab.WorkDir()) {
		t.Fatalf("pid %d is not this lab's kwok controller (%q, %v)", pid, cmdline, err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Errorf("resume kwok controller %d: %v", pid, err)
		}
	})
}

// coreDNSDown scales CoreDNS to zero and waits until its endpoints are gone.
func (e *labEnv) coreDNSDown(t *testing.T) {
	deploys := e.kube.AppsV1().Deployments("kube-system")
	scale := func(n int32) {
		t.Helper()
		s, err := deploys.GetScale(e.ctx, "coredns", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.Replicas = n
		if _, err := deploys.UpdateScale(e.ctx, "coredns", s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	scale(0)
	t.Cleanup(func() {
		scale(1)
		e.waitFor(t, "CoreDNS to be available again", func(ctx context.Context) (bool, string, error) {
			d, err := deploys.Get(ctx, "coredns", metav1.GetOptions{})
			return err == nil && d.Status.AvailableReplicas == 1, "", err
		})
	})
	e.waitFor(t, "kube-dns to have no ready endpoints", func(ctx context.Context) (bool, string, error) {
		d, err := deploys.Get(ctx, "coredns", metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		slices, err := e.kube.DiscoveryV1().EndpointSlices("kube-system").List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=kube-dns"})
		if err != nil {
			return false, "", err
		}
		return d.Status.AvailableReplicas == 0 && len(sliceAddressesForTest(slices.Items)) == 0, "", nil
	})

	r := e.health(t, "auto")
	logEntries(t, r)
	dns := entryNamed(t, r.Checks, "coredns")
	if dns.Status != result.Failed || !strings.Contains(dns.Error, "Deployment kube-system/coredns has no available replica (0 desired)") ||
		!strings.Contains(dns.Error, "Service kube-system/kube-dns has no ready endpoints") {
		t.Errorf("coredns: %+v", dns)
	}
	if svc := entryNamed(t, r.Checks, "service-endpoints"); svc.Status != result.Failed || !strings.Contains(svc.Error, "kube-system/kube-dns") {
		t.Errorf("service-endpoints must list kube-dns: %+v", svc)
	}
	if nodes := entryNamed(t, r.Checks, "nodes"); nodes.Status != result.Passed {
		t.Errorf("an unrelated check stays green: %+v", nodes)
	}
}

func sliceAddressesForTest(slices []discoveryv1.EndpointSlice) []string {
	var out []string
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				out = append(out, ep.Addresses...)
			}
		}
	}
	return out
}

// probesOnKwok runs the probe layer for real: it deploys on kwok's fake nodes, reports every probe
// as skipped with "probes need real pods", and removes its namespace.
func (e *labEnv) probesOnKwok(t *testing.T) {
	p := params(t, Options{Checks: []string{"probes"}, Timeout: 120, ExternalDNSName: "kubernetes.io"})
	r, err := Run(e.ctx, e.clients, p)
	if err != nil {
		t.Fatal(err)
	}
	logEntries(t, r)
	n := len(e.nodes)
	// Per client node: same-node, cross-node, icmp, service, dns cluster + external, external; and policy.
	if r.Counts.Probes.Skipped != 8*n || r.Counts.Probes.Run() != 0 {
		t.Errorf("every probe must be skipped, none passed or failed: %s", r.Summary)
	}
	for _, pr := range r.Probes {
		if !strings.HasPrefix(pr.Reason, "probes need real pods: ") || !strings.Contains(pr.Reason, "kwok") {
			t.Errorf("%s: reason %q", pr.Title(), pr.Reason)
		}
		if pr.Source == nil || pr.Source.Pod == "" || pr.Source.Node == "" {
			t.Errorf("%s: source must name the client pod the scheduler placed: %+v", pr.Title(), pr.Source)
		}
		if pr.Name == "pod-to-pod/cross-node" && (pr.Destination == nil || pr.Destination.Node == pr.Source.Node || pr.Destination.Pod == "") {
			t.Errorf("echo servers must be spread across nodes: %s", pr.Title())
		}
	}
	// No NetworkPolicy: nothing ran, so the deny policy was never applied.
	if !strings.HasPrefix(r.Namespace, defaults.ConnectivityNamespacePrefix) || len(r.TemporaryObjects) != 4 ||
		r.Cleanup != "namespace "+r.Namespace+" deleted" {
		t.Errorf("namespace %q, objects %v, cleanup %q", r.Namespace, r.TemporaryObjects, r.Cleanup)
	}
	if _, err := e.kube.CoreV1().Namespaces().Get(e.ctx, r.Namespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s must be gone after the run: %v", r.Namespace, err)
	}
	e.noTestNamespaces(t)
}

func (e *labEnv) probeInputErrors(t *testing.T) {
	p := params(t, Options{Checks: []string{"pod-to-pod"}, NodeSelector: map[string]any{"pool": "gpu"}})
	if _, err := Run(e.ctx, e.clients, p); err == nil || !strings.Contains(err.Error(), "node_selector {pool=gpu} matches no node") {
		t.Errorf("node selector matching no node: %v", err)
	}
	p.CheckMode = true
	if _, err := Run(e.ctx, e.clients, p); err == nil {
		t.Error("check mode must report the bad node selector too")
	}
	e.noTestNamespaces(t)
}

func (e *labEnv) noTestNamespaces(t *testing.T) {
	t.Helper()
	list, err := e.kube.CoreV1().Namespaces().List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range list.Items {
		if strings.HasPrefix(ns.Name, defaults.ConnectivityNamespacePrefix) {
			t.Errorf("left behind: namespace %s (%s)", ns.Name, ns.Status.Phase)
		}
	}
}
