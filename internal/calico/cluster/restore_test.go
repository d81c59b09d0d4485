package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
)

// freshCluster is a fake API with the given namespaces where created CRDs become established, as
// an apiserver makes them.
func freshCluster(namespaces ...string) Clients {
	var objs []*unstructured.Unstructured
	for _, ns := range namespaces {
		objs = append(objs, obj("v1", "Namespace", "", ns, nil))
	}
	dyn := newDynamic(objs...)
	dyn.PrependReactor("create", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Established", "status": "True"}}, "status", "conditions")
		return false, nil, nil
	})
	return Clients{Kube: ciliumKube(), Dynamic: dyn}
}

func TestRestoreIntoAFreshCluster(t *testing.T) {
	t.Parallel()
	src := newDynamic(manifestCluster()...)
	p := params(t)
	_, err := Remove(context.Background(), Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: src}, p)
	mustNot(t, err)
	backup, err := readBackup(p.BackupDir)
	mustNot(t, err)

	dst := freshCluster("kube-system") // no "apps": its policies cannot be restored
	check := p
	check.CheckMode = true
	rep, err := Restore(context.Background(), dst, check)
	mustNot(t, err)
	if !rep.Changed() || len(rep.Restored) != 0 {
		t.Errorf("check mode: changed %v restored %v", rep.Changed(), rep.Restored)
	}
	rep, err = Restore(context.Background(), dst, p)
	mustNot(t, err)
	if len(rep.Skipped) != 2 || !strings.Contains(rep.Skipped[0].Reason, "namespace apps does not exist") {
		t.Errorf("skipped %v, want the two policies of namespace apps", rep.Skipped)
	}
	if rep.Plan[0].Object != "customresourcedefinitions.apiextensions.k8s.io/clusterinformations.crd.projectcalico.org" {
		t.Errorf("restore must create CRDs first, plan starts with %v", rep.Plan[0])
	}
	restored := 0
	for _, ko := range backup.Kinds {
		for i := range ko.Objects {
			want := &ko.Objects[i]
			if want.GetNamespace() == "apps" {
				continue
			}
			got, err := refOf(ko.GVR, want).client(dst.Dynamic).Get(context.Background(), want.GetName(), metav1.GetOptions{})
			if err != nil {
				t.Errorf("%s was not restored: %v", refOf(ko.GVR, want), err)
				continue
			}
			restored++
			if !sameObject(clean(got), want) {
				t.Errorf("%s differs from its backup:\n%v\n%v", refOf(ko.GVR, want), clean(got).Object, want.Object)
			}
		}
	}
	if restored != len(rep.Restored) || restored == 0 {
		t.Errorf("%d objects compared, %d reported restored", restored, len(rep.Restored))
	}
	rep, err = Restore(context.Background(), dst, p)
	if err != nil || rep.Changed() {
		t.Errorf("second restore: changed %v error %v plan %v", rep.Changed(), err, rep.Plan)
	}
}

func TestRestoreNeedsAVerifiedBackup(t *testing.T) {
	t.Parallel()
	if _, err := Restore(context.Background(), freshCluster(), params(t)); err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Errorf("restore from a dir without a backup: %v", err)
	}
}

// TestRemovalResumedAfterCalicoChanged: the first removal backed Calico up and was interrupted;
// before the operator re-ran it, Calico's objects changed. The re-run continues into the same
// backup (generation 2 in gen-2/) instead of asking for an empty directory, removes Calico, and a
// restore brings back each object as the newest generation saw it.
func TestRemovalResumedAfterCalicoChanged(t *testing.T) {
	t.Parallel()
	p := params(t)
	before := newDynamic(manifestCluster()...)
	inv, err := discover(context.Background(), before)
	mustNot(t, err)
	_, err = writeBackup(p.BackupDir, Manifest{ClusterUID: "uid-kube-system", Generation: 1}, inv.snapshot())
	mustNot(t, err)

	changed := manifestCluster()
	for _, o := range changed {
		if o.GetKind() == "ConfigMap" && o.GetName() == "calico-config" {
			o.Object["data"] = map[string]any{"calico_backend": "vxlan", "veth_mtu": "1400"}
		}
	}
	src := newDynamic(changed...)
	rep, err := Remove(context.Background(), Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: src}, p)
	if err != nil {
		t.Fatalf("resumed removal refused: %v", err)
	}
	if rep.BackupGeneration != 2 || rep.BackupReused || exists(t, src, gvrDaemonSet, "kube-system", "calico-node") {
		t.Errorf("generation %d, reused %v; calico-node still there: %v", rep.BackupGeneration, rep.BackupReused,
			exists(t, src, gvrDaemonSet, "kube-system", "calico-node"))
	}
	if _, err := os.Stat(filepath.Join(p.BackupDir, "gen-2", manifestFile)); err != nil {
		t.Errorf("generation 2: %v", err)
	}
	dst := freshCluster("kube-system", "apps")
	if _, err := Restore(context.Background(), dst, p); err != nil {
		t.Fatal(err)
	}
	cm, err := dst.Dynamic.Resource(gvrConfigMap).Namespace("kube-system").Get(context.Background(), "calico-config", metav1.GetOptions{})
	mustNot(t, err)
	if d, _, _ := unstructured.NestedStringMap(cm.Object, "data"); d["veth_mtu"] != "1400" {
		t.Errorf("restored calico-config %v, want the newest generation's", d)
	}
	// A third run finds everything gone and changes nothing.
	if rep, err := Remove(context.Background(), Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: src}, p); err != nil || rep.Changed() {
		t.Errorf("third run: changed %v, error %v", rep.Changed(), err)
	}
}
