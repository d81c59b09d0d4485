package cluster

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

func TestIntegrationClusterManifestRemoveAndRestore(t *testing.T) {
	r := startLab(t, lab.CalicoManifest)
	nps := r.count(t, KindObjects{GVR: gvrNetworkPolicy})

	// No Cilium yet: refused, nothing touched, no backup written.
	res := r.run(t, nil)
	if !res.Failed() || !strings.Contains(res.Msg(), "refusing to remove Calico") || !strings.Contains(res.Msg(), "kube-system/cilium") {
		t.Fatalf("without Cilium: want a refusal naming the agent DaemonSet, got %v", res)
	}
	if _, err := os.Stat(r.backup); !os.IsNotExist(err) {
		t.Error("a refused run wrote a backup")
	}
	before := r.calicoLeft(t)
	if len(before) == 0 {
		t.Fatal("the lab has no Calico to remove")
	}

	r.startCilium(t)
	res = r.run(t, map[string]any{"_ansible_check_mode": true, "_ansible_diff": true})
	planned := 0
	for _, b := range before {
		if !strings.HasPrefix(b, "pod ") {
			planned++
		}
	}
	if res.Failed() || !res.Changed() || len(res.List("plan")) != planned || res["diff"] == nil {
		t.Fatalf("check mode: want the full plan (%d entries) and a diff, got %v", planned, res)
	}
	if res["flavour"] != "manifest" || res["calico_version"] != "v3.28.5" {
		t.Errorf("detected %v %v, want manifest v3.28.5", res["flavour"], res["calico_version"])
	}
	if after := r.calicoLeft(t); !reflect.DeepEqual(after, before) {
		t.Fatalf("check mode changed the cluster:\n%v\n%v", before, after)
	}

	res = r.run(t, nil)
	if res.Failed() || !res.Changed() || len(res.List("not_removed")) != 0 {
		t.Fatalf("remove: %v", res)
	}
	if left := r.calicoLeft(t); len(left) != 0 {
		t.Errorf("Calico left after removal: %v", left)
	}
	if _, err := r.c.Kube.AppsV1().DaemonSets("kube-system").Get(context.Background(), "cilium", metav1.GetOptions{}); err != nil {
		t.Errorf("the Cilium DaemonSet is gone: %v", err)
	}
	if n := r.count(t, KindObjects{GVR: gvrNetworkPolicy}); n != nps {
		t.Errorf("NetworkPolicies went from %d to %d: they must never be deleted", nps, n)
	}
	if res = r.run(t, nil); res.Failed() || res.Changed() {
		t.Errorf("rerun: want changed=false, got %v", res)
	}

	fresh := startLab(t, lab.CalicoNone)
	fresh.backup = r.backup
	res = fresh.run(t, map[string]any{"restore": true, "_ansible_check_mode": true})
	if res.Failed() || !res.Changed() || len(res.List("restored")) != 0 {
		t.Fatalf("restore check mode: %v", res)
	}
	res = fresh.run(t, map[string]any{"restore": true})
	if res.Failed() || !res.Changed() {
		t.Fatalf("restore: %v", res)
	}
	compareWithBackup(t, fresh, r.backup)
	if res = fresh.run(t, map[string]any{"restore": true}); res.Failed() || res.Changed() {
		t.Errorf("second restore: want changed=false, got %v", res)
	}
}

// compareWithBackup checks, object by object, that the cluster holds what the backup holds (what
// a restore deliberately drops aside: owner references and cluster IPs).
func compareWithBackup(t *testing.T, r *labRun, dir string) {
	t.Helper()
	b, err := readBackup(dir)
	mustNot(t, err)
	n := 0
	for _, ko := range b.Kinds {
		for i := range ko.Objects {
			want, _ := forCreate(&ko.Objects[i])
			ref := refOf(ko.GVR, want)
			got, err := ref.client(r.c.Dynamic).Get(context.Background(), ref.Name, metav1.GetOptions{})
			if err != nil {
				t.Errorf("%s: not in the restored cluster: %v", ref, err)
				continue
			}
			have, _ := forCreate(got)
			if ko.GVR == gvrNamespace { // the server labels every namespace with its name
				unstructured.RemoveNestedField(have.Object, "metadata", "labels", "kubernetes.io/metadata.name")
				unstructured.RemoveNestedField(want.Object, "metadata", "labels", "kubernetes.io/metadata.name")
			}
			if !sameObject(have, want) {
				t.Errorf("%s differs from its backup:\nrestored %v\nbackup   %v", ref, have.Object, want.Object)
			}
			n++
		}
	}
	t.Logf("compared %d restored objects with the backup", n)
	if n == 0 {
		t.Error("the backup held nothing to compare")
	}
}

func TestIntegrationClusterOperatorStuckInterruptedStripped(t *testing.T) {
	r := startLab(t, lab.CalicoOperator)
	r.startCilium(t)
	r.timeout = 3

	// No operator runs in the lab: the Installation's finalizer holds it. Named, not stripped.
	res := r.run(t, nil)
	if !res.Failed() || !strings.Contains(res.Msg(), "installations.operator.tigera.io/default is held by finalizer(s) tigera.io/operator-cleanup") {
		t.Fatalf("want the stuck Installation and its finalizer named, got %v", res)
	}
	stuck := resultList(res, "stuck")
	if len(stuck) != 1 || stuck[0]["object"] != "installations.operator.tigera.io/default" || len(resultList(res, "stripped_finalizers")) != 0 {
		t.Errorf("stuck %v stripped %v", stuck, res["stripped_finalizers"])
	}
	if res["flavour"] != "operator" || res["operator_version"] != "v1.34.13" {
		t.Errorf("detected %v operator %v, want operator v1.34.13", res["flavour"], res["operator_version"])
	}
	if _, err := r.c.Kube.AppsV1().Deployments("tigera-operator").Get(context.Background(), "tigera-operator", metav1.GetOptions{}); err != nil {
		t.Errorf("the operator must outlive a stuck Installation: %v", err)
	}

	// Killed in the middle of a wait: the next run finishes the job.
	killMidway(t, r)

	r.timeout = 30 // each stuck step waits this long before stripping; CRDs need a while on a loaded machine
	res = r.run(t, map[string]any{"strip_finalizers": true})
	if res.Failed() || !res.Changed() || res["backup_reused"] != true {
		t.Fatalf("strip run: want success reusing the first backup, got %v", res)
	}
	stripped := map[string]bool{}
	for _, s := range resultList(res, "stripped_finalizers") {
		stripped[s["object"].(string)] = true
	}
	t.Logf("strip run: stripped %v; warnings %v; removed %d objects", res["stripped_finalizers"], res["warnings"], len(res.List("removed")))
	if !stripped["installations.operator.tigera.io/default"] {
		t.Errorf("stripped %v: want the Installation listed", res["stripped_finalizers"])
	}
	if left := r.calicoLeft(t); len(left) != 0 {
		t.Errorf("Calico left after removal: %v", left)
	}
	if res = r.run(t, nil); res.Failed() || res.Changed() {
		t.Errorf("rerun: want changed=false, got %v", res)
	}

	// Roll back into a fresh cluster: the operator, its namespace and CRs come back as they were.
	fresh := startLab(t, lab.CalicoNone)
	fresh.backup = r.backup
	if res = fresh.run(t, map[string]any{"restore": true}); res.Failed() || !res.Changed() {
		t.Fatalf("restore: %v", res)
	}
	compareWithBackup(t, fresh, r.backup)
}

// killMidway starts the module and SIGKILLs it while it waits on the stuck Installation.
func killMidway(t *testing.T, r *labRun) {
	t.Helper()
	args := `{"scope":"cluster","kubeconfig":"` + r.lab.Kubeconfig() + `","backup_dir":"` + r.backup + `","timeout":60}`
	f := t.TempDir() + "/args"
	mustNot(t, os.WriteFile(f, []byte(args), 0o600))
	cmd := exec.Command(r.bin, f)
	mustNot(t, cmd.Start())
	time.Sleep(3 * time.Second) // inside its 60 s wait; if it ended sooner, it failed on its own
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}
