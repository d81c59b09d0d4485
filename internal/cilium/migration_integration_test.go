package cilium

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

// The live-migration path on the lab running Calico (calico.yaml flavour), with the real Cilium
// chart: refusals, check mode, the missing-operator failure, install beside Calico, no-op rerun,
// upgrade, a wait that times out on an unready node with rollback, finalize, removal. The steps
// build on each other, in this order.
func TestIntegrationMigration(t *testing.T) {
	m := &migration{l: startLab(t, lab.CalicoManifest)}
	m.empty = m.l.footprint(t)
	t.Run("preflight refusals change nothing", m.refusals)
	t.Run("check mode plans the install and writes nothing", m.checkInstall)
	t.Run("without cilium-operator the CRD never comes; rollback removes the install", m.noOperator)
	simulateOperator(t, m.l)
	t.Run("migration install beside Calico", m.install)
	t.Run("rerun is a no-op", m.rerun)
	t.Run("check mode shows the upgrade and writes nothing", m.checkUpgrade)
	t.Run("upgrade on changed values", m.upgrade)
	t.Run("wait timeout names the unready node and rolls back", m.waitTimeout)
	t.Run("finalize switches values and removes the CiliumNodeConfig", m.finalize)
	t.Run("absent removes Cilium", m.absent)
}

type migration struct {
	l         *testLab
	empty     footprint
	installed *Outcome
}

var operatorOne = map[string]any{"operator": map[string]any{"replicas": int64(1)}}

func (m *migration) refusals(t *testing.T) {
	cases := []struct {
		name string
		p    Parameters
		want string
	}{
		{"fresh install over Calico", Parameters{Mode: ModeFresh}, "overlaps Calico IPPool default-ipv4-ippool (10.42.0.0/16)"},
		{"pod CIDR in a node's range", Parameters{Mode: ModeMigration, PodCIDR: "10.42.1.0/24"}, "node k3s-agent-0 podCIDR 10.42.1.0/24"},
		{"pod CIDR in the service CIDR", Parameters{Mode: ModeMigration, PodCIDR: "10.43.0.0/20"}, "overlaps service_cidr 10.43.0.0/16"},
		{"Calico's VXLAN port", Parameters{Mode: ModeMigration, TunnelPort: 4789}, "tunnel port 4789 (tunnel_port) is Calico's VXLAN port"},
	}
	for _, tc := range cases {
		_, err := m.l.run(t, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("%s: error = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	m.l.assertUnchanged(t, m.empty, "refused runs")
}

func (m *migration) checkInstall(t *testing.T) {
	out := m.l.mustRun(t, Parameters{Mode: ModeMigration, CheckMode: true, Diff: true})
	if out.Result.Action != ActionInstall || !out.Changed {
		t.Errorf("check mode: %+v", out.Result)
	}
	if s := out.Result.ManifestSummary; s == nil || !contains(s.Added, "DaemonSet/kube-system/cilium") || len(s.Removed) != 0 {
		t.Errorf("manifest summary = %+v", s)
	}
	if !containsText(out.Warnings, "IP_AUTODETECTION_METHOD") {
		t.Errorf("no autodetection warning for calico.yaml: %v", out.Warnings)
	}
	m.l.assertUnchanged(t, m.empty, "check mode")
}

func (m *migration) noOperator(t *testing.T) {
	_, err := m.l.run(t, Parameters{Mode: ModeMigration, Timeout: 3 * time.Second, RollbackOnFailure: true})
	if err == nil || !strings.Contains(err.Error(), "CiliumNodeConfig CRD not registered by cilium-operator") ||
		!strings.Contains(err.Error(), "uninstalled the failed release cilium") {
		t.Fatalf("error = %v", err)
	}
	waitFor(t, "the rolled-back agents to go", func() (bool, string) {
		fp := m.l.footprint(t)
		return fp == m.empty, "footprint " + fp.releases + fp.daemonSet
	})
}

func (m *migration) install(t *testing.T) {
	m.installed = m.l.mustRun(t, Parameters{Mode: ModeMigration, Wait: true, PatchCalicoAutodetect: true})
	r, nodes := m.installed.Result, len(m.l.nodes)
	if r.Action != ActionInstall || r.Status != "deployed" || r.ChartVersion != "1.20.2" || r.AppVersion != "1.20.2" {
		t.Fatalf("install: %+v", r)
	}
	if r.Readiness == nil || r.Readiness.Desired != nodes || r.Readiness.Ready != nodes || len(r.Readiness.NotReadyNodes) != 0 {
		t.Errorf("readiness = %+v, want every one of %d nodes", r.Readiness, nodes)
	}
	cnc, err := m.l.dyn.Resource(nodeConfigGVR("cilium.io/v2")).Namespace("kube-system").Get(t.Context(), "cilium-default", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("CiliumNodeConfig: %v", err)
	}
	if d, _ := lookup(cnc.Object, []string{"spec", "defaults", "cni-exclusive"}); d != "true" {
		t.Errorf("CiliumNodeConfig spec = %v", cnc.Object["spec"])
	}
	ds, err := m.l.kube.AppsV1().DaemonSets("kube-system").Get(t.Context(), "calico-node", metav1.GetOptions{})
	must(t, err)
	if env := ds.Spec.Template.Spec.Containers[0].Env; !hasEnv(env, "IP_AUTODETECTION_METHOD", "kubernetes-internal-ip") {
		t.Errorf("calico-node was not patched: %v", env)
	}
	if v, _ := lookup(r.Values, []string{"tunnelPort"}); v != float64(8473) {
		t.Errorf("values = %v", r.Values)
	}
	sec, err := m.l.kube.CoreV1().Secrets("kube-system").Get(t.Context(), "sh.helm.release.v1.cilium.v1", metav1.GetOptions{})
	must(t, err)
	if l := sec.Labels["cnimigrate.io/desired"]; !strings.HasPrefix(l, "r1.") {
		t.Errorf("release Secret label cnimigrate.io/desired = %q, want r1.<hash> (the no-op rerun reads only labels)", l)
	}
}

func (m *migration) rerun(t *testing.T) {
	before := m.l.footprint(t)
	out := m.l.mustRun(t, Parameters{Mode: ModeMigration, Wait: true, PatchCalicoAutodetect: true})
	if out.Changed || out.Result.Action != ActionNone || out.Result.Revision != m.installed.Result.Revision {
		t.Errorf("rerun: changed=%v %+v", out.Changed, out.Result)
	}
	m.l.assertUnchanged(t, before, "the no-op rerun")
}

func (m *migration) checkUpgrade(t *testing.T) {
	before := m.l.footprint(t)
	out := m.l.mustRun(t, Parameters{Mode: ModeMigration, Values: operatorOne, CheckMode: true, Diff: true})
	if out.Result.Action != ActionUpgrade || !strings.Contains(out.Msg, "from revision 1") || !strings.Contains(out.Msg, "operator.replicas") {
		t.Errorf("check-mode upgrade: %s", out.Msg)
	}
	if s := out.Result.ManifestSummary; s == nil || !contains(s.Changed, "Deployment/kube-system/cilium-operator") || len(s.Added)+len(s.Removed) != 0 {
		t.Errorf("manifest summary = %+v", s)
	}
	m.l.assertUnchanged(t, before, "check mode")
}

func (m *migration) upgrade(t *testing.T) {
	out := m.l.mustRun(t, Parameters{Mode: ModeMigration, Values: operatorOne, Wait: true})
	if out.Result.Action != ActionUpgrade || out.Result.Revision != 2 || out.Result.Status != "deployed" {
		t.Fatalf("upgrade: %+v", out.Result)
	}
	if len(out.Result.PresetOverrides) != 0 {
		t.Errorf("operator.replicas is not a preset, overrides = %v", out.Result.PresetOverrides)
	}
}

func (m *migration) waitTimeout(t *testing.T) {
	m.l.addFullNode(t, "k3s-agent-unready")
	out, err := m.l.run(t, Parameters{Mode: ModeMigration, Values: operatorOne, Hubble: true, Wait: true,
		Timeout: 10 * time.Second, RollbackOnFailure: true})
	if err == nil || !strings.Contains(err.Error(), "no ready agent on node(s): k3s-agent-unready") {
		t.Fatalf("error = %v", err)
	}
	if !strings.Contains(err.Error(), "rolled back release cilium to revision 2") || out == nil || !out.Result.RolledBack {
		t.Errorf("rollback not reported: %v", err)
	}
	if out != nil && (out.Result.Revision != 4 || out.Result.Status != "deployed") {
		t.Errorf("after rollback: revision %d %s, want 4 deployed (a rollback is a new revision)", out.Result.Revision, out.Result.Status)
	}
	m.l.removeNode(t, "k3s-agent-unready")
}

func (m *migration) finalize(t *testing.T) {
	out := m.l.mustRun(t, Parameters{Mode: ModeFinalize, Values: operatorOne, Wait: true})
	if out.Result.Action != ActionUpgrade || out.Result.Status != "deployed" {
		t.Fatalf("finalize: %+v", out.Result)
	}
	for k, want := range map[string]any{"policyEnforcementMode": "default", "cni.customConf": false, "rollOutCiliumPods": true} {
		if v, _ := lookup(out.Result.Values, strings.Split(k, ".")); v != want {
			t.Errorf("%s = %v, want %v", k, v, want)
		}
	}
	_, err := m.l.dyn.Resource(nodeConfigGVR("cilium.io/v2")).Namespace("kube-system").Get(t.Context(), "cilium-default", metav1.GetOptions{})
	if err == nil {
		t.Error("the CiliumNodeConfig is still there")
	}
}

func (m *migration) absent(t *testing.T) {
	out := m.l.mustRun(t, Parameters{State: StateAbsent, Wait: true})
	if out.Result.Action != ActionUninstall || !out.Changed || out.Result.Revision != 0 {
		t.Errorf("absent: %+v", out.Result)
	}
	if fp := m.l.footprint(t); fp != m.empty {
		t.Errorf("left behind: %+v", fp)
	}
	if again := m.l.mustRun(t, Parameters{State: StateAbsent}); again.Changed {
		t.Errorf("second absent changed: %+v", again.Result)
	}
}
