package cluster

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func planOf(t *testing.T, objs []*unstructured.Unstructured) ([]Entry, *inventory) {
	t.Helper()
	inv, err := discover(context.Background(), newDynamic(objs...))
	mustNot(t, err)
	return entries(buildPlan(inv)), inv
}

func lines(plan []Entry) []string {
	var out []string
	for _, e := range plan {
		out = append(out, e.Step+" | "+e.Action+" | "+e.Object)
	}
	return out
}

func TestPlanManifestFlavour(t *testing.T) {
	t.Parallel()
	plan, inv := planOf(t, manifestCluster())
	want := []string{
		"manifest-objects | delete | daemonsets.apps/kube-system/calico-node",
		"manifest-objects | delete | deployments.apps/kube-system/calico-kube-controllers",
		"manifest-objects | delete | configmaps/kube-system/calico-config",
		"manifest-objects | delete | serviceaccounts/kube-system/calico-node",
		"manifest-objects | delete | clusterroles.rbac.authorization.k8s.io/calico-node",
		"manifest-objects | delete | clusterrolebindings.rbac.authorization.k8s.io/calico-node",
		"crds | delete | customresourcedefinitions.apiextensions.k8s.io/clusterinformations.crd.projectcalico.org",
		"crds | delete | customresourcedefinitions.apiextensions.k8s.io/ippools.crd.projectcalico.org",
		"crds | delete | customresourcedefinitions.apiextensions.k8s.io/networkpolicies.crd.projectcalico.org",
		"crds | deleted with its CRD | clusterinformations.crd.projectcalico.org/default",
		"crds | deleted with its CRD | ippools.crd.projectcalico.org/default-ipv4-ippool",
		"crds | deleted with its CRD | networkpolicies.crd.projectcalico.org/apps/allow-dns",
	}
	if got := lines(plan); !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range plan {
		if strings.Contains(e.Object, "cilium") || strings.Contains(e.Object, "deny-all") || strings.Contains(e.Object, "system:calico") {
			t.Errorf("plan deletes an object that is not Calico's: %s", e.Object)
		}
	}
	if f := inv.flavour(); f != "manifest" {
		t.Errorf("flavour %q, want manifest", f)
	}
	if v, op := versions(context.Background(), newDynamic(manifestCluster()...), inv); v != "v3.28.5" || op != "" {
		t.Errorf("versions %q %q, want v3.28.5 and no operator", v, op)
	}
}

func TestPlanOperatorFlavourOrder(t *testing.T) {
	t.Parallel()
	plan, inv := planOf(t, operatorCluster())
	var steps []string
	for _, e := range plan {
		if len(steps) == 0 || steps[len(steps)-1] != e.Step {
			steps = append(steps, e.Step)
		}
	}
	want := []string{StepAPIServer, StepInstallation, StepDrain, StepOperator, StepAPIService, StepManifest, StepNamespaces, StepCRDs}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("steps %v, want the order that does not hang: %v", steps, want)
	}
	if f := inv.flavour(); f != "operator" {
		t.Errorf("flavour %q, want operator", f)
	}
	if v, op := versions(context.Background(), newDynamic(operatorCluster()...), inv); v != "v3.28.5" || op != "v1.34.13" {
		t.Errorf("versions %q %q, want v3.28.5 (calico-system's calico-node) and v1.34.13", v, op)
	}
}

func TestNothingToRemove(t *testing.T) {
	t.Parallel()
	objs := manifestCluster()
	var nonCalico []*unstructured.Unstructured
	for _, o := range objs {
		if !strings.Contains(o.GetName(), "calico") && o.GetAPIVersion() != "crd.projectcalico.org/v1" &&
			!strings.HasSuffix(o.GetName(), "crd.projectcalico.org") {
			nonCalico = append(nonCalico, o)
		}
	}
	plan, inv := planOf(t, nonCalico)
	if len(plan) != 0 || inv.flavour() != "none" {
		t.Errorf("a cluster without Calico got flavour %q and plan %v", inv.flavour(), lines(plan))
	}
}

func TestImageTag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"docker.io/calico/node:v3.28.5":                  "v3.28.5",
		"quay.io/tigera/operator:v1.34.13@sha256:abcdef": "v1.34.13",
		"registry.local:5000/calico/node":                "",
		"registry.local:5000/calico/node:v3.29.0":        "v3.29.0",
		"calico/node": "",
	} {
		if got := imageTag(in); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsCalicoRBACName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"calico-node": true, "calico-kube-controllers": true, "tigera-operator": true, "calico-crds": true,
		"cilium": false, "cilium-operator": false, "system:node": false, "calico-cilium-bridge": false, "my-calico-role": false,
	} {
		if got := IsCalicoRBACName(name); got != want {
			t.Errorf("IsCalicoRBACName(%q) = %v, want %v", name, got, want)
		}
	}
}
