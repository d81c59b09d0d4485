package cilium

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/kube"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	rcommon "helm.sh/helm/v4/pkg/release/common"
)

// Install, no-op rerun, upgrade on changed values, uninstall: the release and the reported action
// follow, and a rerun never creates a revision.
func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster())

	out := f.mustRun(t, Parameters{Hubble: true})
	if out.Result.Action != ActionInstall || !out.Changed || out.Result.Revision != 1 || out.Result.Status != "deployed" {
		t.Fatalf("install: %+v", out.Result)
	}
	if out.Result.ChartVersion != "1.20.2" || out.Result.AppVersion != "1.20.2" {
		t.Errorf("chart/app version = %s/%s", out.Result.ChartVersion, out.Result.AppVersion)
	}
	rel := f.revisions(t)[0]
	if got := rel.Config["k8sServiceHost"]; got != "198.18.0.1" {
		t.Errorf("k8sServiceHost from the kubeconfig = %v", got)
	}
	if l := rel.Labels["cnimigrate.io/desired"]; !strings.HasPrefix(l, "r1.") || len(l) > 63 {
		t.Errorf("release label = %q, want r1.<hash> (at most 63 characters)", l)
	}

	again := f.mustRun(t, Parameters{Hubble: true})
	if again.Changed || again.Result.Action != ActionNone || again.Result.Revision != 1 || len(f.revisions(t)) != 1 {
		t.Fatalf("rerun changed something: %+v, %d revisions", again.Result, len(f.revisions(t)))
	}

	up := f.mustRun(t, Parameters{Hubble: true, Values: map[string]any{"tunnelPort": int64(9000)}, Diff: true})
	if up.Result.Action != ActionUpgrade || up.Result.Revision != 2 || !up.Changed {
		t.Fatalf("upgrade: %+v", up.Result)
	}
	if s := up.Result.ManifestSummary; s == nil || !reflect.DeepEqual(s.Changed, []string{"ConfigMap/kube-system/cilium-config"}) {
		t.Errorf("manifest summary after upgrade = %+v (the hubble secret regenerates but must not count)", s)
	}
	if len(up.Diffs) < 2 || !strings.Contains(up.Diffs[0].After, "tunnelPort: 9000") || strings.Contains(up.Diffs[0].Before, "9000") {
		t.Errorf("values diff = %+v", up.Diffs)
	}

	gone := f.mustRun(t, Parameters{State: StateAbsent})
	if gone.Result.Action != ActionUninstall || !gone.Changed || len(f.revisions(t)) != 0 {
		t.Fatalf("absent: %+v, revisions left %d", gone.Result, len(f.revisions(t)))
	}
	if again := f.mustRun(t, Parameters{State: StateAbsent}); again.Changed {
		t.Errorf("absent twice reported a change: %+v", again.Result)
	}
}

// Check mode plans install, upgrade and uninstall, writes nothing anywhere, and with diff renders
// the chart client-side for a manifest summary.
func TestCheckModeWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster())
	out := f.mustRun(t, Parameters{CheckMode: true, Diff: true, Hubble: true})
	if out.Result.Action != ActionInstall || !out.Changed || !strings.HasPrefix(out.Msg, "check mode: would install") {
		t.Fatalf("check-mode install: %+v %q", out.Result, out.Msg)
	}
	if s := out.Result.ManifestSummary; s == nil || len(s.Added) != 3 || len(s.Changed)+len(s.Removed) != 0 {
		t.Errorf("manifest summary of an install = %+v", s)
	}
	if w := f.writes(); len(w) != 0 || len(f.revisions(t)) != 0 {
		t.Fatalf("check mode wrote %v, %d revisions", w, len(f.revisions(t)))
	}

	f.mustRun(t, Parameters{Hubble: true})
	before := len(f.writes())
	up := f.mustRun(t, Parameters{CheckMode: true, Diff: true, Hubble: true, Values: map[string]any{"tunnelPort": int64(9000)}})
	if up.Result.Action != ActionUpgrade || !strings.Contains(up.Msg, "from revision 1") || !strings.Contains(up.Msg, "tunnelPort") {
		t.Errorf("check-mode upgrade: %q", up.Msg)
	}
	if s := up.Result.ManifestSummary; s == nil || !reflect.DeepEqual(s.Changed, []string{"ConfigMap/kube-system/cilium-config"}) {
		t.Errorf("check-mode manifest summary = %+v", s)
	}
	del := f.mustRun(t, Parameters{CheckMode: true, State: StateAbsent})
	if del.Result.Action != ActionUninstall || !del.Changed {
		t.Errorf("check-mode absent: %+v", del.Result)
	}
	if w := f.writes(); len(w) != before || len(f.revisions(t)) != 1 {
		t.Errorf("check mode wrote %v, revisions %d", w[before:], len(f.revisions(t)))
	}
}

func TestMigrationCreatesNodeConfigAndFinalizeRemovesIt(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster(), ipPool("default-ipv4-ippool", "10.42.0.0/16"), ciliumCRD("ciliumnodeconfigs.cilium.io", "v2", "v2alpha1"))
	out := f.mustRun(t, Parameters{Mode: ModeMigration})
	if out.Result.Action != ActionInstall || !strings.Contains(strings.Join(out.Result.Plan, "\n"), "create CiliumNodeConfig kube-system/cilium-default (cilium.io/v2)") {
		t.Fatalf("migration plan: %v", out.Result.Plan)
	}
	cnc, err := f.dyn.Resource(nodeConfigGVR("cilium.io/v2")).Namespace("kube-system").Get(t.Context(), "cilium-default", getOpts)
	if err != nil {
		t.Fatalf("CiliumNodeConfig not created: %v", err)
	}
	if sel, _ := lookup(cnc.Object, []string{"spec", "nodeSelector", "matchLabels", "io.cilium.migration/cilium-default"}); sel != "true" {
		t.Errorf("nodeSelector = %v", cnc.Object["spec"])
	}
	if d, _ := lookup(cnc.Object, []string{"spec", "defaults", "write-cni-conf-when-ready"}); d != "/host/etc/cni/net.d/05-cilium.conflist" {
		t.Errorf("defaults = %v", cnc.Object["spec"])
	}
	if again := f.mustRun(t, Parameters{Mode: ModeMigration}); again.Changed {
		t.Errorf("migration rerun changed: %v", again.Result.Plan)
	}
	fin := f.mustRun(t, Parameters{Mode: ModeFinalize})
	if fin.Result.Action != ActionUpgrade || fin.Result.Revision != 2 {
		t.Fatalf("finalize: %+v", fin.Result)
	}
	if v, _ := lookup(fin.Result.Values, []string{"policyEnforcementMode"}); v != "default" {
		t.Errorf("finalize values: %v", fin.Result.Values)
	}
	if _, err := f.dyn.Resource(nodeConfigGVR("cilium.io/v2")).Namespace("kube-system").Get(t.Context(), "cilium-default", getOpts); err == nil {
		t.Error("finalize left the CiliumNodeConfig")
	}
}

// Without cilium-operator nobody registers the CiliumNodeConfig CRD: the run says so, and with
// rollback_on_failure the install is removed again.
func TestMigrationWithoutTheNodeConfigCRD(t *testing.T) {
	t.Parallel()
	for _, rollback := range []bool{false, true} {
		f := newFakeCluster(t, k3sCluster())
		out, err := f.run(t, Parameters{Mode: ModeMigration, Timeout: time.Second, RollbackOnFailure: rollback})
		if err == nil || !strings.Contains(err.Error(), "CiliumNodeConfig CRD not registered by cilium-operator") {
			t.Fatalf("rollback=%v: error = %v", rollback, err)
		}
		if out == nil || out.Result.RolledBack != rollback {
			t.Fatalf("rollback=%v: outcome %+v", rollback, out)
		}
		if want := map[bool]int{false: 1, true: 0}[rollback]; len(f.revisions(t)) != want {
			t.Errorf("rollback=%v: %d revisions left, want %d", rollback, len(f.revisions(t)), want)
		}
		if rollback && !strings.Contains(err.Error(), "uninstalled the failed release") {
			t.Errorf("result does not say it rolled back: %v", err)
		}
	}
}

func TestInstallFailureRollsBackOrLeavesAFailedReleaseTheNextRunCompletes(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster())
	working := f.env.helm.KubeClient
	f.env.helm.KubeClient = &kubefake.FailingKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard},
		WaitError: errors.New("API server went away")}
	_, err := f.run(t, Parameters{})
	if err == nil || !strings.Contains(err.Error(), "API server went away") {
		t.Fatalf("install error = %v", err)
	}
	revs := f.revisions(t)
	if len(revs) != 1 || revs[0].Info.Status != rcommon.StatusFailed {
		t.Fatalf("failed install left %d revisions", len(revs))
	}
	f.env.helm.KubeClient = working
	out := f.mustRun(t, Parameters{})
	if out.Result.Action != ActionUpgrade || out.Result.Status != "deployed" || out.Result.Revision != 2 {
		t.Errorf("next run after a failed install: %+v", out.Result)
	}
}

func TestUpgradeFailureRollsBackToThePreviousRevision(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster())
	f.mustRun(t, Parameters{})
	f.env.helm.KubeClient = &flakyKubeClient{PrintingKubeClient: kubefake.PrintingKubeClient{Out: io.Discard}, failures: 1}
	out, err := f.run(t, Parameters{RollbackOnFailure: true, Values: map[string]any{"tunnelPort": int64(9000)}})
	if err == nil || !strings.Contains(err.Error(), "rolled back release cilium to revision 1") || out == nil || !out.Result.RolledBack {
		t.Fatalf("upgrade failure: %v", err)
	}
	revs := f.revisions(t)
	last := revs[0]
	for _, r := range revs {
		if r.Version > last.Version {
			last = r
		}
	}
	if _, changed := last.Config["tunnelPort"]; changed || last.Version != 3 {
		t.Errorf("after rollback the newest revision %d has config %v", last.Version, last.Config)
	}
}

// An upgrade interrupted mid-way (API server gone) leaves the release pending-upgrade; once that is
// older than timeout, the next run marks it failed and completes the upgrade.
func TestInterruptedUpgradeIsCompleted(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster())
	f.mustRun(t, Parameters{})
	rel := f.revisions(t)[0]
	rel.Info.Status = rcommon.StatusPendingUpgrade
	rel.Info.LastDeployed = time.Now().Add(-time.Hour)
	must(t, f.env.helm.Releases.Update(rel))
	out := f.mustRun(t, Parameters{})
	if out.Result.Action != ActionUpgrade || out.Result.Status != "deployed" || !strings.Contains(out.Result.Plan[0], "interrupted") {
		t.Errorf("recovery: %+v", out.Result)
	}
}

// flakyKubeClient fails the first `failures` updates, as an API server that goes away mid-upgrade.
type flakyKubeClient struct {
	kubefake.PrintingKubeClient
	failures int
}

func (c *flakyKubeClient) Update(original, target kube.ResourceList, opts ...kube.ClientUpdateOption) (*kube.Result, error) {
	if c.failures > 0 {
		c.failures--
		return &kube.Result{}, errors.New("conflict")
	}
	return c.PrintingKubeClient.Update(original, target, opts...)
}
