package cluster

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// operatorSecrets are what the operator flavour keeps in the namespaces a removal deletes: its CA,
// the node and typha certificates, an image pull secret and a CA bundle. A restore needs them: the
// operator re-creates certificates it cannot find, and the agents no longer trust each other.
func operatorSecrets() []*unstructured.Unstructured {
	secret := func(ns, name, typ string, data map[string]any) *unstructured.Unstructured {
		return obj("v1", "Secret", ns, name, map[string]any{"type": typ, "data": data})
	}
	return []*unstructured.Unstructured{
		secret("tigera-operator", "tigera-ca-private", "kubernetes.io/tls", map[string]any{"tls.key": "Q0Eta2V5LXNlY3JldA=="}),
		secret("tigera-operator", "registry-pull", "kubernetes.io/dockerconfigjson", map[string]any{".dockerconfigjson": "e30="}),
		secret("calico-system", "node-certs", "kubernetes.io/tls", map[string]any{"tls.key": "bm9kZS1rZXk="}),
		secret("calico-system", "calico-node-token", "kubernetes.io/service-account-token", map[string]any{"token": "dG9r"}),
		secret("kube-system", "someone-elses", "Opaque", map[string]any{"k": "dg=="}),
		obj("v1", "ConfigMap", "calico-system", "tigera-ca-bundle", map[string]any{"data": map[string]any{"ca.crt": "PEM"}}),
		obj("v1", "ConfigMap", "calico-system", "kube-root-ca.crt", map[string]any{"data": map[string]any{"ca.crt": "PEM"}}),
	}
}

// TestBackupHoldsSecretsAndConfigMapsOfDeletedNamespaces: the removal deletes calico-system and
// tigera-operator with everything in them; the backup holds their Secrets and ConfigMaps (not the
// ones Kubernetes re-creates by itself, not other namespaces'), and a restore brings them back.
func TestBackupHoldsSecretsAndConfigMapsOfDeletedNamespaces(t *testing.T) {
	t.Parallel()
	src := newDynamic(append(operatorCluster(), operatorSecrets()...)...)
	p := params(t)
	p.BackupOnly = true
	rep, err := Remove(context.Background(), Clients{Kube: ciliumKube("node-1", "node-2"), Dynamic: src}, p)
	mustNot(t, err)
	b, err := readBackup(p.BackupDir)
	mustNot(t, err)
	held := map[string]bool{}
	for _, ko := range b.Kinds {
		for i := range ko.Objects {
			held[key(ko.GVR, &ko.Objects[i])] = true
		}
	}
	for _, want := range []string{"secrets/tigera-operator/tigera-ca-private", "secrets/tigera-operator/registry-pull",
		"secrets/calico-system/node-certs", "configmaps/calico-system/tigera-ca-bundle"} {
		if !held[want] {
			t.Errorf("the backup lacks %s", want)
		}
	}
	for _, not := range []string{"secrets/calico-system/calico-node-token", "secrets/kube-system/someone-elses",
		"configmaps/calico-system/kube-root-ca.crt"} {
		if held[not] {
			t.Errorf("the backup holds %s, which Kubernetes re-creates or the removal does not delete", not)
		}
	}
	out, err := json.Marshal(rep)
	mustNot(t, err)
	if strings.Contains(string(out), "Q0Eta2V5LXNlY3JldA==") {
		t.Error("the module's result carries a Secret's data")
	}
	st, err := os.Stat(filepath.Join(p.BackupDir, "secrets.core.yaml"))
	mustNot(t, err)
	if st.Mode().Perm() != filePerm {
		t.Errorf("secrets.core.yaml has mode %v, want %v", st.Mode().Perm(), os.FileMode(filePerm))
	}

	dst := freshCluster("kube-system")
	p.BackupOnly = false
	_, err = Restore(context.Background(), dst, p)
	mustNot(t, err)
	got, err := Ref{GVR: gvrSecret, Namespace: "tigera-operator", Name: "tigera-ca-private"}.client(dst.Dynamic).
		Get(context.Background(), "tigera-ca-private", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the operator's CA was not restored: %v", err)
	}
	if v, _, _ := unstructured.NestedString(got.Object, "data", "tls.key"); v != "Q0Eta2V5LXNlY3JldA==" {
		t.Errorf("restored CA key = %q", v)
	}
}
