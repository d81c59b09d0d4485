package restart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// ciliumVersion is the Cilium module whose CiliumEndpoint CRD the tests install (hack/versions.sh).
const ciliumVersion = "v1.20.2"

var gvrCEP = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumendpoints"}

// installEndpointCRD installs Cilium's real CiliumEndpoint CRD, read from the Cilium Go module.
func installEndpointCRD(ctx context.Context, t *testing.T, ext apiextclient.Interface) {
	t.Helper()
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", "github.com/cilium/cilium@"+ciliumVersion).Output()
	if err != nil {
		t.Fatalf("go mod download cilium: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download cilium: no Dir in %s (%v)", out, err)
	}
	b, err := os.ReadFile(filepath.Join(mod.Dir, "pkg/k8s/apis/cilium.io/client/crds/v2/ciliumendpoints.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextv1.CustomResourceDefinition
	if err := yaml.Unmarshal(b, &crd); err != nil {
		t.Fatalf("CiliumEndpoint CRD: %v", err)
	}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create CiliumEndpoint CRD: %v", err)
	}
	err = wait.For(ctx, "CiliumEndpoint CRD established", time.Minute, 0, func(ctx context.Context) (bool, string, error) {
		c, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		for _, cond := range c.Status.Conditions {
			if cond.Type == apiextv1.Established && cond.Status == apiextv1.ConditionTrue {
				return true, "", nil
			}
		}
		return false, "not established", nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ciliumAgent stands in for Cilium's agents: once switched to Cilium, every pod that starts (gets an
// IP) outside the host network gets a CiliumEndpoint owned by it, as Cilium creates one per endpoint
// it manages. Pods that started before the switch are "still on Calico" and have none.
type ciliumAgent struct {
	dyn     dynamic.Interface
	mu      sync.Mutex
	created map[types.UID]bool // pods seen with an IP (with an endpoint when Cilium gave them their IP)
	cilium  bool               // new pods get their IP from Cilium (else from Calico: no endpoint)
	errs    []error
}

// switchTo says which CNI gives new pods their IPs from now on.
func (a *ciliumAgent) switchTo(cilium bool) {
	a.mu.Lock()
	a.cilium = cilium
	a.mu.Unlock()
}

// toCilium switches to Cilium once the agent has seen every pod that has an IP now: those got it
// from Calico, even if the agent's watch delivers them late.
func (a *ciliumAgent) toCilium(ctx context.Context, t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	pods, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = wait.For(ctx, "the fake cilium agent to see every running pod", time.Minute, 0, func(context.Context) (bool, string, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, p := range pods.Items {
			if p.Status.PodIP != "" && !p.Spec.HostNetwork && p.DeletionTimestamp == nil && !a.created[p.UID] {
				return false, "not seen yet: " + p.Namespace + "/" + p.Name, nil
			}
		}
		return true, "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a.switchTo(true)
}

func startCiliumAgent(t *testing.T, kube kubernetes.Interface, dyn dynamic.Interface) *ciliumAgent {
	t.Helper()
	a := &ciliumAgent{dyn: dyn, created: map[types.UID]bool{}}
	f := informers.NewSharedInformerFactory(kube, 0)
	inf := f.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if p, ok := obj.(*corev1.Pod); ok && initial && p.Status.PodIP != "" {
				a.mu.Lock()
				a.created[p.UID] = true // already running when Cilium "arrived": still on Calico
				a.mu.Unlock()
				return
			}
			a.observe(obj)
		},
		UpdateFunc: func(_, obj any) { a.observe(obj) },
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	f.Start(stop)
	f.WaitForCacheSync(stop)
	return a
}

func (a *ciliumAgent) observe(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.Spec.HostNetwork || p.Status.PodIP == "" || p.DeletionTimestamp != nil {
		return
	}
	a.mu.Lock()
	if a.created[p.UID] || !a.cilium {
		a.created[p.UID] = true
		a.mu.Unlock()
		return
	}
	a.created[p.UID] = true
	a.mu.Unlock()
	cep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
		"metadata": map[string]any{"name": p.Name, "namespace": p.Namespace, "ownerReferences": []any{map[string]any{
			"apiVersion": "v1", "kind": "Pod", "name": p.Name, "uid": string(p.UID)}}},
		"status": map[string]any{"networking": map[string]any{"addressing": []any{map[string]any{"ipv4": p.Status.PodIP}}}},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := a.dyn.Resource(gvrCEP).Namespace(p.Namespace).Create(ctx, cep, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) { // the previous incarnation's endpoint (StatefulSet pod): replace it
		_ = a.dyn.Resource(gvrCEP).Namespace(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		_, err = a.dyn.Resource(gvrCEP).Namespace(p.Namespace).Create(ctx, cep, metav1.CreateOptions{})
	}
	if err != nil {
		a.mu.Lock()
		a.errs = append(a.errs, fmt.Errorf("CiliumEndpoint %s/%s: %w", p.Namespace, p.Name, err))
		a.mu.Unlock()
	}
}

func (a *ciliumAgent) check(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, err := range a.errs {
		t.Errorf("fake cilium agent: %v", err)
	}
}

// Workload builders. kwok runs every scheduled pod; images are never pulled.

func labels(app string) map[string]string { return map[string]string{"app": app} }

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}},
		TerminationGracePeriodSeconds: new(int64)}
}

func tmpl(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(app)}, Spec: podSpec()}
}

func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels(name)}, Template: tmpl(name)}}
}

func statefulSet(ns, name string, replicas int32, strategy appsv1.StatefulSetUpdateStrategyType) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.StatefulSetSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels(name)}, Template: tmpl(name),
		ServiceName: name, UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: strategy}}}
}

func daemonSet(ns, name string, hostNetwork bool) *appsv1.DaemonSet {
	d := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DaemonSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels(name)}, Template: tmpl(name)}}
	d.Spec.Template.Spec.HostNetwork = hostNetwork
	return d
}

func onDelete(d *appsv1.DaemonSet) *appsv1.DaemonSet {
	d.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	return d
}

func barePod(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels(name)}, Spec: podSpec()}
}

// create creates namespace ns and the objects in it, then waits until every pod in ns is ready.
func create(ctx context.Context, t *testing.T, kube kubernetes.Interface, ns string, objs ...any) {
	t.Helper()
	_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *appsv1.Deployment:
			_, err = kube.AppsV1().Deployments(ns).Create(ctx, o, metav1.CreateOptions{})
		case *appsv1.StatefulSet:
			_, err = kube.AppsV1().StatefulSets(ns).Create(ctx, o, metav1.CreateOptions{})
		case *appsv1.DaemonSet:
			_, err = kube.AppsV1().DaemonSets(ns).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Pod:
			_, err = kube.CoreV1().Pods(ns).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("create: unsupported %T", o)
		}
		if err != nil {
			t.Fatalf("create %T in %s: %v", o, ns, err)
		}
	}
	waitPodsReady(ctx, t, kube, ns)
}

// waitPodsReady waits until every workload in ns has all its pods ready, and every pod in ns is.
func waitPodsReady(ctx context.Context, t *testing.T, kube kubernetes.Interface, ns string) {
	t.Helper()
	err := wait.For(ctx, "workloads in "+ns+" ready", 3*time.Minute, time.Second, func(ctx context.Context) (bool, string, error) {
		if missing, err := workloadsNotReady(ctx, kube, ns); err != nil || missing != "" {
			return false, missing, err
		}
		pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		var notReady []string
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && !podReady(&p) {
				notReady = append(notReady, p.Name)
			}
		}
		return len(notReady) == 0, "pods not ready: " + strings.Join(notReady, ", "), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// workloadsNotReady names the workloads in ns whose pods are not all there and ready.
func workloadsNotReady(ctx context.Context, kube kubernetes.Interface, ns string) (string, error) {
	var bad []string
	deps, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, d := range deps.Items {
		if st := d.Status; st.ObservedGeneration < d.Generation || st.ReadyReplicas != *d.Spec.Replicas || st.Replicas != *d.Spec.Replicas {
			bad = append(bad, "Deployment "+d.Name)
		}
	}
	stss, err := kube.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, s := range stss.Items {
		if st := s.Status; st.ObservedGeneration < s.Generation || st.ReadyReplicas != *s.Spec.Replicas {
			bad = append(bad, "StatefulSet "+s.Name)
		}
	}
	dss, err := kube.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, d := range dss.Items {
		if st := d.Status; st.ObservedGeneration < d.Generation || st.DesiredNumberScheduled == 0 || st.NumberReady != st.DesiredNumberScheduled {
			bad = append(bad, "DaemonSet "+d.Name)
		}
	}
	if len(bad) > 0 {
		return "not ready: " + strings.Join(bad, ", "), nil
	}
	return "", nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podUIDs maps the live pods of the namespaces (all when none) to their UIDs.
func podUIDs(ctx context.Context, t *testing.T, kube kubernetes.Interface) map[string]types.UID {
	t.Helper()
	pods, err := kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out[p.Namespace+"/"+p.Name] = p.UID
		}
	}
	return out
}

// writes is what a restart changes at once, before any pod is replaced: the generation of every
// Deployment, StatefulSet and DaemonSet (a rollout restart patches the pod template) and the live
// pods (a deletion or eviction marks the pod terminating). Two equal snapshots taken around a run
// prove the run wrote none of it, with no wait for pods to be replaced.
func writes(ctx context.Context, t *testing.T, kube kubernetes.Interface) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, uid := range podUIDs(ctx, t, kube) {
		out["Pod "+k] = string(uid)
	}
	deps, err := kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		out["Deployment "+d.Namespace+"/"+d.Name] = fmt.Sprint(d.Generation)
	}
	sts, err := kube.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts.Items {
		out["StatefulSet "+s.Namespace+"/"+s.Name] = fmt.Sprint(s.Generation)
	}
	dss, err := kube.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dss.Items {
		out["DaemonSet "+d.Namespace+"/"+d.Name] = fmt.Sprint(d.Generation)
	}
	return out
}

var _ = defaults.RestartedAtAnnot
