package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

func exists(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) bool {
	t.Helper()
	_, err := Ref{GVR: gvr, Namespace: ns, Name: name}.client(dyn).Get(context.Background(), name, metav1.GetOptions{})
	return err == nil
}

func params(t *testing.T) Parameters {
	return Parameters{BackupDir: filepath.Join(t.TempDir(), "backup"), Timeout: time.Second}
}

func TestRemoveRefusesUnlessCiliumIsReadyEverywhere(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		readyOn []string
		want    string
	}{
		"no cilium":           {nil, "does not exist"},
		"not ready on node-2": {[]string{"node-1"}, "no ready agent on node node-2"},
	} {
		dyn := newDynamic(manifestCluster()...)
		kube := ciliumKube(c.readyOn...)
		if c.readyOn == nil {
			mustNot(t, kube.AppsV1().DaemonSets("kube-system").Delete(context.Background(), "cilium", metav1.DeleteOptions{}))
		}
		p := params(t)
		rep, err := Remove(context.Background(), Clients{Kube: kube, Dynamic: dyn}, p)
		if !errors.Is(err, ErrPrecondition) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want a refusal saying %q", name, err, c.want)
		}
		if rep == nil || len(rep.Plan) == 0 {
			t.Errorf("%s: a refusal still reports the plan", name)
		}
		if !exists(t, dyn, gvrDaemonSet, "kube-system", "calico-node") {
			t.Errorf("%s: refused, yet calico-node was deleted", name)
		}
		if _, err := os.Stat(p.BackupDir); !os.IsNotExist(err) {
			t.Errorf("%s: refused, yet the backup dir was created", name)
		}
	}
	// force overrides the precondition.
	p := params(t)
	p.Force = true
	dyn := newDynamic(manifestCluster()...)
	if _, err := Remove(context.Background(), Clients{Kube: ciliumKube(), Dynamic: dyn}, p); err != nil {
		t.Errorf("force: %v", err)
	}
}

func TestRemoveCheckModeChangesNothing(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(manifestCluster()...)
	p := params(t)
	p.CheckMode = true
	rep, err := Remove(context.Background(), Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: dyn}, p)
	mustNot(t, err)
	if !rep.Changed() || len(rep.Removed) != 0 {
		t.Errorf("check mode: changed %v, removed %v", rep.Changed(), rep.Removed)
	}
	for _, a := range dyn.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" {
			t.Errorf("check mode made a %s call on %s", v, a.GetResource())
		}
	}
	if _, err := os.Stat(p.BackupDir); !os.IsNotExist(err) {
		t.Error("check mode created the backup dir")
	}
}

func TestRemoveManifestThenRerun(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(manifestCluster()...)
	c := Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: dyn}
	p := params(t)
	rep, err := Remove(context.Background(), c, p)
	mustNot(t, err)
	if rep.Backup == nil || rep.BackupReused || len(rep.NotRemoved) != 0 {
		t.Errorf("backup %v reused %v not removed %v", rep.Backup, rep.BackupReused, rep.NotRemoved)
	}
	for _, gone := range []Ref{{GVR: gvrDaemonSet, Namespace: "kube-system", Name: "calico-node"},
		{GVR: gvrCRD, Name: "ippools.crd.projectcalico.org"}, {GVR: gvrClusterRole, Name: "calico-node"}} {
		if exists(t, dyn, gone.GVR, gone.Namespace, gone.Name) {
			t.Errorf("%s is still there", gone)
		}
	}
	for _, kept := range []Ref{{GVR: gvrDaemonSet, Namespace: "kube-system", Name: "cilium"},
		{GVR: gvrClusterRole, Name: "cilium"}, {GVR: gvrNetworkPolicy, Namespace: "apps", Name: "deny-all"},
		{GVR: gvrCRD, Name: "ciliumnetworkpolicies.cilium.io"}, {GVR: gvrConfigMap, Namespace: "kube-system", Name: "cilium-config"}} {
		if !exists(t, dyn, kept.GVR, kept.Namespace, kept.Name) {
			t.Errorf("%s was deleted", kept)
		}
	}
	rep, err = Remove(context.Background(), c, p)
	if err != nil || rep.Changed() {
		t.Errorf("rerun: changed %v, error %v, plan %v", rep.Changed(), err, rep.Plan)
	}
}

func TestRemoveRefusesADifferentBackup(t *testing.T) {
	t.Parallel()
	p := params(t)
	mustNot(t, os.MkdirAll(p.BackupDir, 0o700))
	_, err := writeBackup(p.BackupDir, Manifest{}, []KindObjects{{GVR: gvrConfigMap, Kind: "ConfigMap", Namespaced: true,
		Objects: []unstructured.Unstructured{*obj("v1", "ConfigMap", "kube-system", "calico-config", nil)}}})
	mustNot(t, err)
	dyn := newDynamic(manifestCluster()...)
	_, err = Remove(context.Background(), Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: dyn}, p)
	if err == nil || !strings.Contains(err.Error(), "different backup") {
		t.Errorf("error %v, want a refusal", err)
	}
	if !exists(t, dyn, gvrDaemonSet, "kube-system", "calico-node") {
		t.Error("refused, yet calico-node was deleted")
	}
}

func TestRemoveReportsStuckFinalizerAndStripsOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(operatorCluster()...)
	c := Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: dyn}
	p := params(t)
	rep, err := Remove(context.Background(), c, p)
	if err == nil || !strings.Contains(err.Error(), "installations.operator.tigera.io/default is held by finalizer(s) tigera.io/operator-cleanup") {
		t.Fatalf("error %v, want the stuck Installation and its finalizer named", err)
	}
	if len(rep.Stuck) != 1 || rep.Stuck[0].Object != "installations.operator.tigera.io/default" || len(rep.Stripped) != 0 {
		t.Errorf("stuck %v stripped %v", rep.Stuck, rep.Stripped)
	}
	if !contains(rep.Removed, "apiservers.operator.tigera.io/default") || !contains(rep.NotRemoved, "deployments.apps/tigera-operator/tigera-operator") {
		t.Errorf("partial failure must say what went and what did not: removed %v, not removed %v", rep.Removed, rep.NotRemoved)
	}
	if !exists(t, dyn, gvrDeployment, "tigera-operator", "tigera-operator") {
		t.Error("the operator was deleted while the Installation was stuck: it could never clean up")
	}

	p.StripFinalizers = true
	rep, err = Remove(context.Background(), c, p)
	mustNot(t, err)
	if !rep.BackupReused {
		t.Error("the second run did not reuse the first run's backup")
	}
	if len(rep.Stripped) != 1 || rep.Stripped[0].Finalizers[0] != "tigera.io/operator-cleanup" {
		t.Errorf("stripped %v, want the Installation's finalizer", rep.Stripped)
	}
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "calico-system") {
		t.Errorf("warnings %v, want one about calico-system not emptied by the operator", rep.Warnings)
	}
	for _, gone := range []Ref{{GVR: gvrNamespace, Name: "calico-system"}, {GVR: gvrAPIService, Name: "v3.projectcalico.org"},
		{GVR: gvrCRD, Name: "installations.operator.tigera.io"}, {GVR: gvrClusterRole, Name: "tigera-operator"}} {
		if exists(t, dyn, gone.GVR, gone.Namespace, gone.Name) {
			t.Errorf("%s is still there", gone)
		}
	}
}

func TestSystemFinalizersAreNeverStripped(t *testing.T) {
	t.Parallel()
	objs := manifestCluster()
	for _, o := range objs {
		if o.GetName() == "ippools.crd.projectcalico.org" {
			o.SetFinalizers([]string{"customresourcecleanup.apiextensions.k8s.io"})
		}
	}
	dyn := newDynamic(objs...)
	p := params(t)
	p.StripFinalizers = true
	rep, err := Remove(context.Background(), Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: dyn}, p)
	if err == nil || !strings.Contains(err.Error(), "customresourcecleanup.apiextensions.k8s.io, which is never stripped") {
		t.Errorf("error %v, want the CRD reported as waiting for Kubernetes' own finalizer", err)
	}
	if len(rep.Stripped) != 0 {
		t.Errorf("stripped %v: a system finalizer was stripped", rep.Stripped)
	}
	u, err := Ref{GVR: gvrCRD, Name: "ippools.crd.projectcalico.org"}.client(dyn).Get(context.Background(), "ippools.crd.projectcalico.org", metav1.GetOptions{})
	if err != nil || len(u.GetFinalizers()) != 1 {
		t.Errorf("the CRD must keep its finalizer: %v %v", u, err)
	}
	if !contains(rep.NotRemoved, "customresourcedefinitions.apiextensions.k8s.io/ippools.crd.projectcalico.org") {
		t.Errorf("not removed %v: want the stuck CRD", rep.NotRemoved)
	}
}

// TestRemoveReportsPoolCIDRs: the pool CIDRs node cleanup needs come from the cluster while Calico
// is there, and from the backup once it is gone.
func TestRemoveReportsPoolCIDRs(t *testing.T) {
	t.Parallel()
	objs := append(manifestCluster(),
		crd("ipamblocks", "crd.projectcalico.org", "IPAMBlock", "Cluster"),
		obj("crd.projectcalico.org/v1", "IPAMBlock", "", "10-99-0-0-26", map[string]any{"spec": map[string]any{"cidr": "10.99.0.0/26"}}),
		obj("crd.projectcalico.org/v1", "IPPool", "", "default-ipv6-ippool", map[string]any{"spec": map[string]any{"cidr": "fd42:0:0:0::1/48"}}))
	dyn := newDynamic(objs...)
	c := Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: dyn}
	p := params(t)
	want := "10.42.0.0/16 10.99.0.0/26 fd42::/48"
	check := p
	check.CheckMode = true
	rep, err := Remove(context.Background(), c, check)
	mustNot(t, err)
	if got := strings.Join(rep.PoolCIDRs, " "); got != want {
		t.Errorf("check mode with Calico installed: pool_cidrs %q, want %q", got, want)
	}
	_, err = Remove(context.Background(), c, p)
	mustNot(t, err)
	rep, err = Remove(context.Background(), c, p)
	mustNot(t, err)
	if got := strings.Join(rep.PoolCIDRs, " "); got != want {
		t.Errorf("Calico removed: pool_cidrs from the backup %q, want %q", got, want)
	}
	other := params(t)
	if rep, err = Remove(context.Background(), c, other); err != nil || len(rep.PoolCIDRs) != 0 {
		t.Errorf("Calico removed, no backup: pool_cidrs %q (error %v), want none", rep.PoolCIDRs, err)
	}
}

func TestPoolCIDRsOfTheOperatorsInstallation(t *testing.T) {
	t.Parallel()
	inst := obj("operator.tigera.io/v1", "Installation", "", "default", map[string]any{"spec": map[string]any{
		"calicoNetwork": map[string]any{"ipPools": []any{map[string]any{"cidr": "10.42.0.0/16"}, map[string]any{"cidr": "not a cidr"}}}}})
	got := poolCIDRs([]KindObjects{{GVR: schema.GroupVersionResource{Group: "operator.tigera.io", Version: "v1", Resource: "installations"},
		Objects: []unstructured.Unstructured{*inst}}})
	if strings.Join(got, " ") != "10.42.0.0/16" {
		t.Errorf("pool CIDRs of an Installation = %q, want 10.42.0.0/16", got)
	}
}
