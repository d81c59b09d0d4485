package restart

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// mixedCluster has one workload for each decision the planner makes.
func mixedCluster() []runtime.Object {
	var objs []runtime.Object
	add := func(o ...runtime.Object) { objs = append(objs, o...) }
	add(namespace("kube-system"), namespace("app"), namespace("legacy"))
	add(deployment("kube-system", "coredns", dnsLabels(), oldIP)...)
	add(deployment("kube-system", "metrics-server", nil, oldIP)...)
	add(deployment("app", "web", nil, oldIP, newIP)...)
	add(deployment("app", "api", nil, newIP, newIP)...)
	add(deployment("app", "empty", nil)...)
	add(deployment("legacy", "old", nil, oldIP)...)
	add(daemonSet("kube-system", "calico-node", true, "192.168.0.1")...)
	add(daemonSet("app", "agent", false, oldIP)...)
	add(statefulSet("app", "db", appsv1.OnDeleteStatefulSetStrategyType, oldIP, oldIP)...)
	cache := statefulSet("app", "cache", appsv1.RollingUpdateStatefulSetStrategyType, oldIP)
	add(cache...)
	add(endpoint(cache[1].(*corev1.Pod))) // Cilium manages it although its IP is outside the CIDR
	add(pod("app", "debug", oldIP, nil))  // bare
	job := pod("app", "migrate-x1", oldIP, []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "migrate", UID: "job-uid", Controller: ptr(true)}})
	add(job, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "migrate", UID: "job-uid"}})
	mirror := pod("kube-system", "etcd-server-1", oldIP, nil)
	mirror.Annotations = map[string]string{mirrorPodAnnotation: "x"}
	add(mirror)
	return objs
}

func TestPlanDecidesPerWorkload(t *testing.T) {
	f := newFake(t, true, mixedCluster()...)
	pl := open(t, f, params(func(p *Parameters) { p.ExcludeNamespaces = []string{"legacy"} })).Plan()

	var order []string
	for _, st := range pl.Steps {
		order = append(order, st.Action+" "+st.Ref.String())
	}
	want := []string{
		"restart Deployment kube-system/coredns",
		"restart Deployment kube-system/metrics-server",
		"restart DaemonSet app/agent",
		"restart Deployment app/web",
		"evict StatefulSet app/db",
	}
	if strings.Join(order, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	if !pl.Steps[0].DNS {
		t.Errorf("CoreDNS not marked as the DNS step")
	}
	if got := pl.Steps[3].Reason; got != "1/2 pods not managed by cilium" {
		t.Errorf("web's reason = %q", got)
	}
	if got := pl.Steps[4].Evict; strings.Join(got, ",") != "db-0,db-1" {
		t.Errorf("db evicts %v, want both pods", got)
	}

	skipped := map[string]string{}
	for _, s := range pl.Skipped {
		skipped[s.Ref.String()] = s.Reason
	}
	wantSkip := map[string]string{
		"DaemonSet kube-system/calico-node": ReasonHostNetwork,
		"Deployment app/api":                "already managed",
		"StatefulSet app/cache":             "already managed",
		"Deployment app/empty":              ReasonNoPods,
		"Deployment legacy/old":             ReasonExcluded,
		"Job app/migrate":                   "owned by a Job",
	}
	for ref, reason := range wantSkip {
		if !strings.Contains(skipped[ref], reason) {
			t.Errorf("%s skipped with %q, want it to mention %q", ref, skipped[ref], reason)
		}
	}
	if len(skipped) != len(wantSkip) {
		t.Errorf("skipped %v, want exactly %d entries", skipped, len(wantSkip))
	}
	if len(pl.BarePods) != 1 || pl.BarePods[0].Name != "debug" || pl.BarePods[0].Action != BarePodsReport {
		t.Errorf("bare pods = %+v, want app/debug reported (the mirror pod is not bare)", pl.BarePods)
	}
	if !strings.Contains(pl.Managed, "CiliumEndpoint") || !strings.Contains(pl.Managed, newCIDR) {
		t.Errorf("managed_by = %q", pl.Managed)
	}
}

func TestPlanStrategies(t *testing.T) {
	older := deployment("app", "older", nil, newIP)
	newer := deployment("app", "newer", nil, oldIP)
	newer[2].(*corev1.Pod).CreationTimestamp = ts("2026-03-01T00:00:00Z")
	objs := append(append([]runtime.Object{namespace("app")}, older...), newer...)
	cases := []struct {
		name string
		mod  func(*Parameters)
		want string // restarted workloads
	}{
		{"unmanaged", nil, "newer"},
		{"all", func(p *Parameters) { p.Strategy = StrategyAll }, "newer,older"},
		{"created_before", func(p *Parameters) {
			p.Strategy, p.CreatedBefore, p.TargetCIDRs = StrategyCreatedBefore, "2026-02-01T00:00:00Z", nil
		}, "older"},
		{"label selector", func(p *Parameters) { p.Strategy, p.LabelSelector = StrategyAll, "tier=web" }, ""},
		{"kinds", func(p *Parameters) { p.Strategy, p.Kinds = StrategyAll, []string{KindStatefulSet} }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := open(t, newFake(t, false, objs...), params(tc.mod)).Plan()
			var got []string
			for _, st := range pl.Steps {
				got = append(got, st.Name)
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("restarts %v, want %q", got, tc.want)
			}
		})
	}
}

// A rerun after an interruption waits for a restart that is still rolling out instead of
// starting it over.
func TestPlanResumesRolloutInProgress(t *testing.T) {
	objs := deployment("app", "web", nil, oldIP, oldIP)
	d := objs[0].(*appsv1.Deployment)
	d.Spec.Template.Annotations = map[string]string{defaults.RestartedAtAnnot: "2026-01-02T00:00:00Z"}
	d.Generation, d.Status.UpdatedReplicas = 2, 1
	done := deployment("app", "done", nil, oldIP)
	done[0].(*appsv1.Deployment).Spec.Template.Annotations = map[string]string{defaults.RestartedAtAnnot: "2026-01-02T00:00:00Z"}
	pl := open(t, newFake(t, false, append(objs, done...)...), params(nil)).Plan()
	actions := map[string]string{}
	for _, st := range pl.Steps {
		actions[st.Name] = st.Action
	}
	if actions["web"] != ActionWait {
		t.Errorf("web (restart requested after its pods were created, still rolling) gets %q, want %q", actions["web"], ActionWait)
	}
	if actions["done"] != ActionRestart {
		t.Errorf("done (rolled out, still unmanaged) gets %q, want %q", actions["done"], ActionRestart)
	}
}

func TestPlannedReportIsCheckMode(t *testing.T) {
	f := newFake(t, true, mixedCluster()...)
	s := open(t, f, params(nil))
	rep := Planned(s.Plan())
	if !rep.Changed || rep.Totals.Planned == 0 {
		t.Fatalf("check mode report: changed=%v planned=%d, want a non-empty plan", rep.Changed, rep.Totals.Planned)
	}
	for _, w := range rep.Workloads {
		if w.Outcome != OutcomePlanned {
			t.Errorf("%s: outcome %q in check mode", w.Ref, w.Outcome)
		}
	}
	for _, a := range f.kube.Actions() {
		if v := a.GetVerb(); v != "list" && v != "watch" && v != "get" {
			t.Errorf("check mode sent a %s %s", v, a.GetResource().Resource)
		}
	}
}

func TestOpenFailsWithoutAWayToTellManagedPods(t *testing.T) {
	f := newFake(t, false, namespace("app"))
	_, err := Open(t.Context(), f.clients(), params(func(p *Parameters) { p.TargetCIDRs = nil }))
	if err == nil || !strings.Contains(err.Error(), "cannot tell which pods cilium manages") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenDiscoversCiliumCIDRs(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: defaults.CiliumConfigMap},
		Data: map[string]string{defaults.CiliumClusterPoolKey: "10.245.0.0/16 10.246.0.0/16"}}
	f := newFake(t, false, cm)
	pl := open(t, f, params(func(p *Parameters) { p.TargetCIDRs = nil })).Plan()
	if got := strings.Join(pl.TargetCIDRs, " "); got != "10.245.0.0/16 10.246.0.0/16" {
		t.Errorf("target CIDRs %q, want the cilium-config cluster pool", got)
	}
}

func TestMissingNamespaceWarnsAndContinues(t *testing.T) {
	f := newFake(t, false, append([]runtime.Object{namespace("app")}, deployment("app", "web", nil, oldIP)...)...)
	pl := open(t, f, params(func(p *Parameters) { p.Namespaces = []string{"nope", "app"} })).Plan()
	if len(pl.Warnings) != 1 || !strings.Contains(pl.Warnings[0], "namespace nope does not exist") {
		t.Errorf("warnings = %v", pl.Warnings)
	}
	if len(pl.Steps) != 1 || pl.Steps[0].Name != "web" {
		t.Errorf("steps = %+v, want app/web", pl.Steps)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	p := Defaults()
	p.Kinds = []string{"Deployment", "CronJob"}
	p.LabelSelector = "app in (a"
	p.Strategy, p.CreatedBefore = StrategyCreatedBefore, "2026-13-01"
	p.Parallelism = 0
	p.Timeout = 0
	err := p.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`unknown kind "CronJob"`, "label_selector", "RFC 3339", "parallelism must be at least 1", "timeout must be positive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	p = Defaults()
	p.CreatedBefore = time.Now().Format(time.RFC3339)
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "only used with strategy created_before") {
		t.Errorf("created_before without its strategy: %v", err)
	}
}

// A few given namespaces are watched one by one; many are served by cluster-wide watches. Either
// way the plan covers exactly the given namespaces.
func TestNamespacesScopeTheWatches(t *testing.T) {
	objs := []runtime.Object{namespace("other")}
	objs = append(objs, deployment("other", "x", nil, oldIP)...)
	var all []string
	for i := range defaults.RestartNamespacedWatchesMax + 1 {
		ns := fmt.Sprintf("ns-%d", i)
		all = append(all, ns)
		objs = append(objs, namespace(ns))
		objs = append(objs, deployment(ns, "web", nil, oldIP)...)
	}
	for _, tc := range []struct {
		namespaces      []string
		wantClusterWide bool
	}{
		{all[:2], false},
		{all, true},
	} {
		f := newFake(t, false, objs...)
		pl := open(t, f, params(func(p *Parameters) { p.Namespaces = tc.namespaces })).Plan()
		if len(pl.Steps) != len(tc.namespaces) || len(pl.Skipped) != 0 {
			t.Errorf("%d namespaces: steps %v, skipped %v; want one step per namespace, nothing else", len(tc.namespaces), pl.Steps, pl.Skipped)
		}
		var listed []string
		for _, a := range f.kube.Actions() {
			if a.GetVerb() == "list" && a.GetResource().Resource == "deployments" {
				listed = append(listed, a.GetNamespace())
			}
		}
		if clusterWide := slices.Equal(listed, []string{""}); clusterWide != tc.wantClusterWide {
			t.Errorf("%d namespaces: Deployments listed in %q; want cluster-wide %v", len(tc.namespaces), listed, tc.wantClusterWide)
		}
	}
}
