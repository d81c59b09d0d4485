package cilium

import (
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// Each refusal names what to fix, and a refused run changes nothing.
func TestPreflightRefusals(t *testing.T) {
	t.Parallel()
	pool := ipPool("default-ipv4-ippool", "10.42.0.0/16")
	cases := []struct {
		name  string
		p     Parameters
		extra []*unstructured.Unstructured
		want  []string
	}{
		{"pod CIDR inside Calico's pool, the cluster CIDR and a node's podCIDR",
			Parameters{Mode: ModeMigration, PodCIDR: "10.42.1.0/24"}, nil,
			[]string{"Calico IPPool default-ipv4-ippool (10.42.0.0/16)", "cluster_cidr 10.42.0.0/16", "node k3s-agent-0 podCIDR 10.42.1.0/24"}},
		{"pod CIDR overlapping the service CIDR", Parameters{Mode: ModeMigration, PodCIDR: "10.43.128.0/17"}, nil,
			[]string{"pod CIDR 10.43.128.0/17 overlaps service_cidr 10.43.0.0/16"}},
		{"pod CIDR changed through values", Parameters{Mode: ModeMigration,
			Values: map[string]any{"ipam": map[string]any{"operator": map[string]any{"clusterPoolIPv4PodCIDRList": []any{"10.42.0.0/20"}}}}}, nil,
			[]string{"pod CIDR 10.42.0.0/20 overlaps"}},
		{"tunnel port equal to Calico's default VXLAN port", Parameters{Mode: ModeMigration, TunnelPort: 4789}, nil,
			[]string{"tunnel port 4789 (tunnel_port) is Calico's VXLAN port"}},
		{"tunnel port equal to FelixConfiguration's vxlanPort", Parameters{Mode: ModeMigration, TunnelPort: 9999},
			[]*unstructured.Unstructured{felixConfig(9999)}, []string{"tunnel port 9999 (tunnel_port) is Calico's VXLAN port"}},
		{"fresh install over a running Calico", Parameters{Mode: ModeFresh}, nil,
			[]string{"pod CIDR 10.42.0.0/16 overlaps Calico IPPool default-ipv4-ippool"}},
		{"malformed pod CIDR in values", Parameters{Mode: ModeMigration,
			Values: map[string]any{"ipam": map[string]any{"operator": map[string]any{"clusterPoolIPv4PodCIDRList": "10.300.0.0/16"}}}}, nil,
			[]string{"is not a CIDR"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeCluster(t, k3sCluster(), append([]*unstructured.Unstructured{pool}, tc.extra...)...)
			out, err := f.run(t, tc.p)
			if err == nil || !isPreflight(err) {
				t.Fatalf("error = %v, want a preflight refusal", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q does not name %q", err, w)
				}
			}
			if out == nil || out.Changed || out.Result.Action != ActionNone {
				t.Errorf("refused run reports %+v", out)
			}
			if w := f.writes(); len(w) != 0 || len(f.revisions(t)) != 0 {
				t.Errorf("refused run wrote %v", w)
			}
		})
	}
}

func TestPreflightAcceptsTheMigrationDefaults(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster(), ipPool("default-ipv4-ippool", "10.42.0.0/16"), felixConfig(4789),
		ciliumCRD("ciliumnodeconfigs.cilium.io", "v2"))
	if _, err := f.run(t, Parameters{Mode: ModeMigration, CheckMode: true}); err != nil {
		t.Fatalf("migration defaults refused: %v", err)
	}
}

func calicoNodeDS(env ...corev1.EnvVar) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "calico-node", Namespace: "kube-system"},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "calico-node", Env: env}},
		}}},
	}
}

func installation(autodetect map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": map[string]any{"name": "default"},
		"spec": map[string]any{"calicoNetwork": map[string]any{"nodeAddressAutodetectionV4": autodetect}},
	}}
}

// Calico must not pick cilium_host as its node address: warn, or fix with patch_calico_autodetect.
func TestCalicoAutodetection(t *testing.T) {
	t.Parallel()
	crd := ciliumCRD("ciliumnodeconfigs.cilium.io", "v2")
	t.Run("manifest install warns, then gets patched", func(t *testing.T) {
		t.Parallel()
		f := newFakeCluster(t, append(k3sCluster(), calicoNodeDS(corev1.EnvVar{Name: "IP", Value: "autodetect"})), crd)
		out := f.mustRun(t, Parameters{Mode: ModeMigration, CheckMode: true})
		if !containsText(out.Warnings, "IP_AUTODETECTION_METHOD=kubernetes-internal-ip") {
			t.Errorf("warnings = %v", out.Warnings)
		}
		out = f.mustRun(t, Parameters{Mode: ModeMigration, PatchCalicoAutodetect: true})
		if !containsText(out.Result.Plan, "set IP_AUTODETECTION_METHOD=kubernetes-internal-ip on DaemonSet kube-system/calico-node") {
			t.Errorf("plan = %v", out.Result.Plan)
		}
		ds, err := f.kube.AppsV1().DaemonSets("kube-system").Get(t.Context(), "calico-node", getOpts)
		must(t, err)
		env := map[string]string{}
		for _, e := range ds.Spec.Template.Spec.Containers[0].Env {
			env[e.Name] = e.Value
		}
		if len(env) != 2 || env["IP_AUTODETECTION_METHOD"] != "kubernetes-internal-ip" || env["IP"] != "autodetect" {
			t.Errorf("calico-node env after patch = %v", env)
		}
		if again := f.mustRun(t, Parameters{Mode: ModeMigration, PatchCalicoAutodetect: true}); again.Changed {
			t.Errorf("second run changed: %v", again.Result.Plan)
		}
	})
	t.Run("operator install gets patched", func(t *testing.T) {
		t.Parallel()
		f := newFakeCluster(t, k3sCluster(), crd, installation(map[string]any{"firstFound": true}))
		out := f.mustRun(t, Parameters{Mode: ModeMigration, CheckMode: true})
		if !containsText(out.Warnings, "nodeAddressAutodetectionV4") {
			t.Errorf("warnings = %v", out.Warnings)
		}
		f.mustRun(t, Parameters{Mode: ModeMigration, PatchCalicoAutodetect: true})
		inst, err := f.dyn.Resource(installationGVR).Get(t.Context(), "default", getOpts)
		must(t, err)
		got, _ := lookup(inst.Object, []string{"spec", "calicoNetwork", "nodeAddressAutodetectionV4"})
		if m, _ := got.(map[string]any); len(m) != 1 || m["kubernetes"] != "NodeInternalIP" {
			t.Errorf("autodetection after patch = %v", got)
		}
	})
}

// The autodetection change restarts calico-node on every node: Cilium is installed only once that
// rollout is over, so that Calico's restarts and the agents' start do not overlap (on kind, the
// overlap dropped Service requests in every client for 23 s). A rollout that does not finish is a
// timeout naming the DaemonSet and its progress, with Cilium not installed.
func TestAutodetectionFixWaitsForCalicoNodeRollout(t *testing.T) {
	t.Parallel()
	crd := ciliumCRD("ciliumnodeconfigs.cilium.io", "v2")
	ds := calicoNodeDS()
	ds.Generation = 1
	ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 3, UpdatedNumberScheduled: 2,
		NumberReady: 3, NumberAvailable: 3}
	f := newFakeCluster(t, append(k3sCluster(), ds), crd)
	_, err := f.run(t, Parameters{Mode: ModeMigration, PatchCalicoAutodetect: true, Wait: true, Timeout: time.Second})
	var te *wait.TimeoutError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "DaemonSet kube-system/calico-node to roll out") ||
		!strings.Contains(err.Error(), "2/3 updated") {
		t.Fatalf("mid-rollout calico-node: err = %v, want a timeout naming the DaemonSet and its progress", err)
	}
	if revs := f.revisions(t); len(revs) != 0 {
		t.Errorf("Cilium installed while calico-node was still rolling out: %d revision(s)", len(revs))
	}
}

// A live migration drains every node: with one CoreDNS replica, or none kept up by a
// PodDisruptionBudget, cluster DNS stops while its node drains. The migration warns; a CoreDNS
// that can ride out a drain, or none at all, gives no warning.
func TestCoreDNSDrainWarning(t *testing.T) {
	t.Parallel()
	crd := ciliumCRD("ciliumnodeconfigs.cilium.io", "v2")
	coredns := func(replicas int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system"},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"k8s-app": "kube-dns"}}}},
		}
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system"},
		Spec:       policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}}},
	}
	cases := []struct {
		name string
		objs []runtime.Object
		want string // "" for no warning
	}{
		{"K3s' single replica, no PDB", []runtime.Object{coredns(1)}, "CoreDNS (Deployment kube-system/coredns): only 1 replica, and no PodDisruptionBudget covers it. The live migration drains"},
		{"two replicas, no PDB", []runtime.Object{coredns(2)}, "CoreDNS (Deployment kube-system/coredns): no PodDisruptionBudget covers it."},
		{"two replicas under a PDB", []runtime.Object{coredns(2), pdb}, ""},
		{"no CoreDNS", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeCluster(t, append(k3sCluster(), c.objs...), crd)
			out := f.mustRun(t, Parameters{Mode: ModeMigration, CheckMode: true})
			got := containsText(out.Warnings, "CoreDNS (Deployment")
			if c.want == "" && got || c.want != "" && !containsText(out.Warnings, c.want) {
				t.Errorf("warnings = %v, want %q", out.Warnings, c.want)
			}
			if fresh := f.mustRun(t, Parameters{Mode: ModeFresh, CheckMode: true}); containsText(fresh.Warnings, "CoreDNS (Deployment") {
				t.Errorf("fresh install (no drain) warned about CoreDNS: %v", fresh.Warnings)
			}
		})
	}
}

func TestFlannelWarning(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{node("k3s-server-0", "10.42.0.0/24", map[string]string{"flannel.alpha.coreos.com/backend-type": "vxlan"})}
	f := newFakeCluster(t, objs)
	out := f.mustRun(t, Parameters{CheckMode: true})
	if !containsText(out.Warnings, "flannel still looks active on node(s) k3s-server-0") {
		t.Errorf("warnings = %v", out.Warnings)
	}
}

func containsText(list []string, s string) bool {
	for _, e := range list {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}
