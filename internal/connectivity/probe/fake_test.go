package probe

// A fake cluster for the probe layer's unit tests: a fake clientset whose Deployment and
// DaemonSet creations also create their pods, and a fake executor that answers each probe with
// recorded real tool output (testdata/). The real API server's behaviour is covered by the lab
// integration test in package connectivity.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const (
	fakeNamespace = "cnimigrate-connectivity-abcde" // the namespace the dig recording answers for
	fakeToken     = "TOKEN"
)

func testNode(name string, ready bool, annotations map[string]string) *corev1.Node {
	status := corev1.ConditionTrue
	if !ready {
		status = corev1.ConditionFalse
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations, Labels: map[string]string{hostnameKey: name}},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}},
	}
}

// podStatus sets a created pod's status: ready, or stuck with a waiting reason.
type podStatus func(p *corev1.Pod)

func readyStatus(p *corev1.Pod) {
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
}

func fakeCluster(t *testing.T, nodes []*corev1.Node, status podStatus) *fake.Clientset {
	t.Helper()
	var objs []runtime.Object
	for _, n := range nodes {
		objs = append(objs, n)
	}
	cs := fake.NewClientset(objs...)
	cs.PrependReactor("create", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ns := a.(k8stesting.CreateAction).GetObject().(*corev1.Namespace)
		if ns.Name == "" {
			ns.Name = fakeNamespace
		}
		return false, nil, nil
	})
	cs.PrependReactor("create", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		a.(k8stesting.CreateAction).GetObject().(*corev1.Service).Spec.ClusterIP = echoAddress
		return false, nil, nil
	})
	addPods := func(ns, name string, tmpl corev1.PodTemplateSpec, octet int) {
		for i, n := range nodes {
			if unusable(n, tmpl.Spec.Tolerations) != "" {
				continue
			}
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Namespace: ns, Labels: tmpl.Labels},
				Spec: tmpl.Spec, Status: corev1.PodStatus{PodIP: fmt.Sprintf("10.42.%d.%d", i, octet)}}
			p.Spec.NodeName = n.Name
			status(p)
			if err := cs.Tracker().Add(p); err != nil {
				t.Errorf("add pod: %v", err)
			}
		}
	}
	cs.PrependReactor("create", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.CreateAction).GetObject().(*appsv1.Deployment)
		addPods(a.GetNamespace(), d.Name, d.Spec.Template, 10)
		return false, nil, nil
	})
	cs.PrependReactor("create", "daemonsets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.CreateAction).GetObject().(*appsv1.DaemonSet)
		addPods(a.GetNamespace(), d.Name, d.Spec.Template, 20)
		return false, nil, nil
	})
	return cs
}

// fakeExec answers probes with recorded tool output. Curl requests are blocked (recorded connect
// timeouts) once the deny policy exists, if enforce is set.
type fakeExec struct {
	t        *testing.T
	kube     *fake.Clientset
	enforce  bool
	answer   string // replaces every answer (a runtime that is not a shell)
	err      error  // every exec fails
	mu       sync.Mutex
	commands []string
}

var (
	loopCount = regexp.MustCompile(`-lt (\d+) \]`)
	pingCount = regexp.MustCompile(`ping -c (\d+)`)
)

func (f *fakeExec) Exec(ctx context.Context, ns, pod, ctr string, cmd []string) (string, string, error) {
	f.mu.Lock()
	f.commands = append(f.commands, pod+": "+strings.Join(cmd, " "))
	f.mu.Unlock()
	if f.err != nil {
		return "", "", f.err
	}
	if f.answer != "" {
		return f.answer, "", nil
	}
	if ctr != clientCtr || len(cmd) != 3 {
		return "", "", fmt.Errorf("unexpected exec into %s/%s: %q", pod, ctr, cmd)
	}
	script := cmd[2]
	switch {
	case strings.Contains(script, execOKPrefix):
		return execOKPrefix + fakeToken + "\ncurl 8.7.1 (x86_64-alpine-linux-musl) libcurl/8.7.1\n" +
			"cnimigrate-tool curl\ncnimigrate-tool dig\ncnimigrate-tool ping\ncnimigrate-tool iperf3\n" +
			"search " + ns + ".svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n", "", nil
	case strings.HasPrefix(script, "iperf3 "):
		return f.recording("iperf3-success.json"), "", nil
	case strings.Contains(script, "dig "):
		return f.cycle("dig-success.txt", sampleMarker+"\n", count(loopCount, script)), "", nil
	case strings.HasPrefix(script, "ping "):
		return f.recording("ping-success.txt"), "", nil
	case strings.Contains(script, "curl "):
		n := count(loopCount, script)
		if f.enforce && strings.Contains(script, ":8080/") && f.policyExists(ns) {
			// The loop stops after MaxFailedInARow failures in a row.
			return f.cycle("curl-connect-timeout.txt", "\n", min(n, MaxFailedInARow)), "", nil
		}
		return f.cycle("curl-success.txt", "\n", n), "", nil
	}
	return "", "", fmt.Errorf("fake exec does not know %q", script)
}

func (f *fakeExec) policyExists(ns string) bool {
	_, err := f.kube.NetworkingV1().NetworkPolicies(ns).Get(context.Background(), policyName, metav1.GetOptions{})
	return err == nil
}

func (f *fakeExec) recording(name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// cycle repeats a recording's samples (split by sep) until there are n.
func (f *fakeExec) cycle(name, sep string, n int) string {
	rec := f.recording(name)
	var parts []string
	if sep == "\n" {
		parts = strings.Split(strings.TrimSpace(rec), "\n")
	} else {
		parts = strings.Split(rec, sep)[1:]
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		if sep != "\n" {
			b.WriteString(sep)
		}
		b.WriteString(parts[i%len(parts)])
		if sep == "\n" {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func count(re *regexp.Regexp, s string) int {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (f *fakeExec) ran(substr string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.commands {
		if strings.Contains(c, substr) {
			n++
		}
	}
	return n
}

func testConfig(kube *fake.Clientset, ex Executor) Config {
	groups := map[string]bool{}
	for _, g := range Groups {
		groups[g] = true
	}
	return Config{
		Kube: kube, Exec: ex, Groups: groups, Images: Images{Client: "client:1", Echo: "echo:1"},
		Samples: 5, ProbeTimeout: time.Second, Timeout: 20 * time.Second, CleanupTimeout: 10 * time.Second,
		PolicyGrace: 2 * time.Second, ExternalTarget: "https://1.1.1.1", Token: fakeToken,
	}
}

var errExecRefused = errors.New(`error dialing backend: dial tcp 192.0.2.10:10250: connect: connection refused`)
