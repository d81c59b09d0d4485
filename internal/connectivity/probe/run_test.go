package probe

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

func threeNodes() []*corev1.Node {
	return []*corev1.Node{testNode("n1", true, nil), testNode("n2", true, nil), testNode("n3", true, nil)}
}

func namespaceGone(t *testing.T, kube *fake.Clientset) {
	t.Helper()
	_, err := kube.CoreV1().Namespaces().Get(context.Background(), fakeNamespace, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("test namespace still exists after the run (err %v)", err)
	}
}

func byName(entries []result.Entry) map[string][]result.Entry {
	out := map[string][]result.Entry{}
	for _, e := range entries {
		out[e.Name] = append(out[e.Name], e)
	}
	return out
}

func TestRunWithRealToolOutputs(t *testing.T) {
	t.Parallel()
	kube := fakeCluster(t, threeNodes(), readyStatus)
	ex := &fakeExec{t: t, kube: kube, enforce: true}
	cfg := testConfig(kube, ex)
	cfg.Iperf3, cfg.ExternalDNSName = true, "one.one.one.one"
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := result.Count(out.Entries)
	// 3 clients × (same, cross, icmp, service, dns cluster+external, external, throughput) + 3 policy.
	if c.Passed != 27 || c.Failed != 0 || c.Skipped != 0 {
		for _, e := range out.Entries {
			t.Logf("%s: %s %s %s", e.Title(), e.Status, e.Observed, e.Problem())
		}
		t.Fatalf("counts %+v, want 27 passed", c)
	}
	names := byName(out.Entries)
	for _, e := range names[NameCrossNode] {
		if e.Source.Node == e.Destination.Node || e.Latency == nil || e.Latency.N != 5 || e.Expected != "success" {
			t.Errorf("cross-node probe %s: %+v", e.Title(), e)
		}
	}
	wantCross := map[string]string{"n1": "n2", "n2": "n3", "n3": "n1"}
	for _, e := range names[NameCrossNode] {
		if wantCross[e.Source.Node] != e.Destination.Node {
			t.Errorf("cross-node %s → %s, want every node a destination once", e.Source.Node, e.Destination.Node)
		}
	}
	for _, e := range names[NameSameNode] {
		if e.Source.Node != e.Destination.Node {
			t.Errorf("same-node probe crosses nodes: %s", e.Title())
		}
	}
	for _, e := range names[NamePolicyDeny] {
		if e.Expected != "timeout or refused" || e.Observed != "3/3 timeout (stopped after 3 failed requests in a row)" || e.Status != result.Passed {
			t.Errorf("policy probe %s: expected %q observed %q", e.Title(), e.Expected, e.Observed)
		}
	}
	if tp := names[NameThroughput][0].Throughput; tp == nil || tp.ReceivedBitsPerSecond < 1e9 {
		t.Errorf("throughput from the iperf3 recording: %+v", tp)
	}
	if ex.ran("fqdn") != 0 || ex.ran("echo."+fakeNamespace+".svc.cluster.local.") != 3 {
		t.Errorf("DNS probe must query the fully qualified Service name learnt from resolv.conf")
	}
	wantObjs := []string{"Namespace/" + fakeNamespace, "Deployment/" + fakeNamespace + "/echo", "Service/" + fakeNamespace + "/echo",
		"DaemonSet/" + fakeNamespace + "/client", "NetworkPolicy/" + fakeNamespace + "/deny-echo-ingress"}
	if strings.Join(out.Objects, ",") != strings.Join(wantObjs, ",") {
		t.Errorf("objects %v, want %v", out.Objects, wantObjs)
	}
	if out.Cleanup != "namespace "+fakeNamespace+" deleted" {
		t.Errorf("cleanup %q", out.Cleanup)
	}
	namespaceGone(t, kube)
}

func TestRunFailsWhenPolicyIsNotEnforced(t *testing.T) {
	t.Parallel()
	kube := fakeCluster(t, threeNodes()[:2], readyStatus)
	cfg := testConfig(kube, &fakeExec{t: t, kube: kube, enforce: false})
	cfg.PolicyGrace = 1
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range byName(out.Entries)[NamePolicyDeny] {
		if e.Status != result.Failed || e.Observed != "5/5 success" || !strings.Contains(e.Error, "success (HTTP 200)") {
			t.Errorf("unenforced deny policy must fail saying traffic got through: %+v", e)
		}
	}
	for _, e := range byName(out.Entries)[NameSameNode] {
		if e.Status != result.Passed {
			t.Errorf("allow probes still pass: %+v", e)
		}
	}
}

func TestRunOnKwokNodesSkipsEveryProbeAndCleansUp(t *testing.T) {
	t.Parallel()
	kwok := map[string]string{"kwok.x-k8s.io/node": "fake"}
	kube := fakeCluster(t, []*corev1.Node{testNode("k1", true, kwok), testNode("k2", true, kwok)}, readyStatus)
	ex := &fakeExec{t: t, kube: kube}
	out, err := Run(context.Background(), testConfig(kube, ex))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Entries) == 0 {
		t.Fatal("no entries: each probe must be reported as skipped")
	}
	for _, e := range out.Entries {
		if e.Status != result.Skipped || !strings.HasPrefix(e.Reason, "probes need real pods") && e.Name != NameDNSExternal {
			t.Errorf("%s: %s %q, want skipped: probes need real pods", e.Title(), e.Status, e.Reason)
		}
	}
	if len(ex.commands) != 0 {
		t.Errorf("exec must not be attempted on kwok nodes, ran %v", ex.commands)
	}
	namespaceGone(t, kube)
}

func TestRunWhenExecIsNotAShell(t *testing.T) {
	t.Parallel()
	kube := fakeCluster(t, threeNodes(), readyStatus)
	ex := &fakeExec{t: t, kube: kube, answer: "exec is not supported by this runtime"}
	out, err := Run(context.Background(), testConfig(kube, ex))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Entries {
		if e.Status != result.Skipped {
			t.Errorf("%s passed or failed on a runtime that cannot run tools: %s", e.Title(), e.Status)
		}
	}
	if r := out.Entries[0].Reason; !strings.Contains(r, "probes need real pods") || !strings.Contains(r, "exec is not supported") {
		t.Errorf("reason %q must say why and quote the answer", r)
	}
	if ex.ran("curl -s") != 0 {
		t.Error("no probe may run after the preflight failed")
	}
	namespaceGone(t, kube)
}

func TestRunReportsPodsThatCannotStart(t *testing.T) {
	t.Parallel()
	stuck := func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: p.Spec.Containers[0].Name, State: corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "mirror.local/netshoot:v0.13"`}}}}
	}
	kube := fakeCluster(t, threeNodes(), stuck)
	_, _ = kube.CoreV1().Events(fakeNamespace).Create(context.Background(), &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "ev1", Namespace: fakeNamespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "client-0"}, Type: corev1.EventTypeWarning,
		Reason: "Failed", Message: `Failed to pull image "mirror.local/netshoot:v0.13": not found`,
	}, metav1.CreateOptions{})
	out, err := Run(context.Background(), testConfig(kube, &fakeExec{t: t, kube: kube}))
	if err != nil {
		t.Fatal(err)
	}
	setup := out.Entries[0]
	if setup.Name != NameSetup || setup.Status != result.Failed || !strings.Contains(setup.Error, "ImagePullBackOff") {
		t.Fatalf("first entry %+v, want a failed probe-setup naming ImagePullBackOff", setup)
	}
	if !strings.Contains(strings.Join(setup.Details, "\n"), `Failed to pull image "mirror.local/netshoot:v0.13"`) {
		t.Errorf("details must carry the pod events: %q", setup.Details)
	}
	for _, e := range out.Entries[1:] {
		if e.Status != result.Skipped || !strings.HasPrefix(e.Reason, "probe setup failed") && e.Name != NameDNSExternal {
			t.Errorf("%s: %s %q", e.Title(), e.Status, e.Reason)
		}
	}
	namespaceGone(t, kube)
}

func TestRunInputAndExecErrors(t *testing.T) {
	t.Parallel()
	kube := fakeCluster(t, threeNodes(), readyStatus)
	cfg := testConfig(kube, &fakeExec{t: t, kube: kube})
	cfg.NodeSelector = map[string]string{"pool": "gpu"}
	if _, err := Run(context.Background(), cfg); err == nil || err.Error() != "node_selector {pool=gpu} matches no node" {
		t.Errorf("selector matching nothing: %v", err)
	}
	notReady := fakeCluster(t, []*corev1.Node{testNode("n1", false, nil)}, readyStatus)
	if _, err := Run(context.Background(), testConfig(notReady, nil)); err == nil || !strings.Contains(err.Error(), "n1 (NotReady)") {
		t.Errorf("only NotReady nodes: %v", err)
	}
	broken := fakeCluster(t, threeNodes(), readyStatus)
	out, err := Run(context.Background(), testConfig(broken, &fakeExec{t: t, kube: broken, err: errExecRefused}))
	if err != nil {
		t.Fatal(err)
	}
	if e := out.Entries[0]; e.Status != result.Failed || !strings.Contains(e.Error, "exec into client pod client-0 on n1") {
		t.Errorf("exec failure must fail the setup naming the pod: %+v", e)
	}
	namespaceGone(t, broken)
}

func TestRunKeepAndSingleNode(t *testing.T) {
	t.Parallel()
	kube := fakeCluster(t, threeNodes()[:1], readyStatus)
	cfg := testConfig(kube, &fakeExec{t: t, kube: kube, enforce: true})
	cfg.Keep = true
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Kept {
		t.Error("keep: true must be reported")
	}
	if _, err := kube.CoreV1().Namespaces().Get(context.Background(), fakeNamespace, metav1.GetOptions{}); err != nil {
		t.Errorf("keep: true must leave the namespace: %v", err)
	}
	for _, e := range byName(out.Entries)[NameCrossNode] {
		if e.Status != result.Skipped || !strings.Contains(e.Reason, "second node") {
			t.Errorf("cross-node on one node: %+v", e)
		}
	}
	if p := byName(out.Entries)[NamePolicyDeny]; len(p) != 1 || p[0].Status != result.Passed || p[0].Destination.Node != "n1" {
		t.Errorf("policy on one node must target the same node's echo server: %+v", p)
	}
}

func TestPlanCreatesNothing(t *testing.T) {
	t.Parallel()
	kube := fakeCluster(t, threeNodes(), readyStatus)
	out, err := Plan(context.Background(), testConfig(kube, nil), "check mode")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range kube.Actions() {
		if a.GetVerb() != "list" && a.GetVerb() != "get" {
			t.Errorf("plan did %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
	if len(out.Objects) != 5 || len(out.Entries) != 24 {
		t.Errorf("plan: %d objects %v, %d entries", len(out.Objects), out.Objects, len(out.Entries))
	}
}
