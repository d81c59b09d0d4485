package policy

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

var listKinds = map[schema.GroupVersionResource]string{
	{Group: GroupV3, Version: "v3", Resource: "networkpolicies"}:        "NetworkPolicyList",
	{Group: GroupV3, Version: "v3", Resource: "globalnetworkpolicies"}:  "GlobalNetworkPolicyList",
	{Group: GroupCRD, Version: "v1", Resource: "networkpolicies"}:       "NetworkPolicyList",
	{Group: GroupCRD, Version: "v1", Resource: "globalnetworkpolicies"}: "GlobalNetworkPolicyList",
	{Group: GroupCRD, Version: "v1", Resource: "networksets"}:           "NetworkSetList",
	{Group: GroupCRD, Version: "v1", Resource: "globalnetworksets"}:     "GlobalNetworkSetList",
	{Group: GroupV3, Version: "v3", Resource: "networksets"}:            "NetworkSetList",
	{Group: GroupV3, Version: "v3", Resource: "globalnetworksets"}:      "GlobalNetworkSetList",
	k8sPolicyResource: "NetworkPolicyList",
	nodeResource:      "NodeList",
	configMapResource: "ConfigMapList",
	CNPResource:       "CiliumNetworkPolicyList",
	CCNPResource:      "CiliumClusterwideNetworkPolicyList",
}

func obj(apiVersion, kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	md := map[string]any{"name": name}
	if ns != "" {
		md["namespace"] = ns
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md, "spec": spec}}
}

// fakeCluster serves Calico's CRDs only (no Calico API server): projectcalico.org/v3 is not found.
func fakeCluster(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	c := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	c.PrependReactor("list", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetResource().Group == GroupV3 {
			return true, nil, apierrors.NewNotFound(a.GetResource().GroupResource(), "")
		}
		return false, nil, nil
	})
	return c
}

func TestLoadClusterReadsCRDsWhenV3IsNotServed(t *testing.T) {
	t.Parallel()
	node := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": "k3s-server-0"},
		"status":   map[string]any{"addresses": []any{map[string]any{"type": "InternalIP", "address": "198.18.0.2"}, map[string]any{"type": "Hostname", "address": "k3s-server-0"}}}}}
	dyn := fakeCluster(
		obj(APIVersionV1, KindNetworkPolicy, "shop", "default.api", map[string]any{"selector": "app == 'api'"}),
		obj(APIVersionV1, KindNetworkPolicy, "dev", "default.api", map[string]any{"selector": "app == 'api'"}),
		obj(APIVersionV1, KindGlobalNetworkPolicy, "", "default.deny", map[string]any{"selector": "all()"}),
		obj("networking.k8s.io/v1", KindNetworkPolicy, "dev", "k8s-policy", map[string]any{}),
		node,
	)
	in, err := LoadCluster(context.Background(), dyn)
	if err != nil {
		t.Fatal(err)
	}
	in.Namespaces = []string{"shop"}
	res, err := Translate(in, Options{ClusterCIDRs: testCIDRs})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Report.Policies {
		got = append(got, p.Source.String())
	}
	if strings.Join(got, ";") != "GlobalNetworkPolicy deny;NetworkPolicy shop/api" {
		t.Errorf("policies translated = %v, want shop/api (namespaces filter, default. prefix stripped) and the global deny", got)
	}
	if !in.K8sPolicyNamespaces["dev"] || len(in.K8sPolicyNamespaces) != 1 {
		t.Errorf("Kubernetes policy namespaces = %v, want dev", in.K8sPolicyNamespaces)
	}
	addrs, err := NodeAddresses(context.Background(), dyn)
	if err != nil || len(addrs) != 1 || addrs[0].String() != "198.18.0.2/32" {
		t.Errorf("node addresses = %v (%v), want 198.18.0.2/32", addrs, err)
	}
}

func TestPlanObjectsRefusesObjectsItDoesNotManage(t *testing.T) {
	t.Parallel()
	foreign := obj(CiliumAPIVersion, KindCiliumNetworkPolicy, "shop", "calico-api", map[string]any{})
	dyn := fakeCluster(foreign)
	res, err := Translate(Input{Policies: []Policy{{Kind: KindNetworkPolicy, Metadata: Metadata{Name: "api", Namespace: "shop"},
		Spec: Spec{Selector: "app == 'api'"}}}}, Options{ClusterCIDRs: testCIDRs})
	if err != nil {
		t.Fatal(err)
	}
	_, err = PlanObjects(context.Background(), dyn, res.Objects)
	if err == nil || !strings.Contains(err.Error(), "not managed by cnimigrate") {
		t.Fatalf("want a refusal to overwrite a foreign object, got %v", err)
	}
}

func TestPlanObjectsComparesWithTheCluster(t *testing.T) {
	t.Parallel()
	res := translateFile(t, "testdata/calico/01-allow-tcp-6379.yaml")
	current, err := ToUnstructured(res.Objects[0])
	if err != nil {
		t.Fatal(err)
	}
	// The API server adds fields (status, defaults); they do not make an object out of date.
	current["status"] = map[string]any{"conditions": []any{}}
	stale, _ := ToUnstructured(res.Objects[1])
	stale["spec"].(map[string]any)["enableDefaultDeny"] = map[string]any{"ingress": true, "egress": false}
	dyn := fakeCluster(&unstructured.Unstructured{Object: current}, &unstructured.Unstructured{Object: stale})
	changes, err := PlanObjects(context.Background(), dyn, res.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if changes[0].Action != ActionUnchanged || changes[1].Action != ActionUpdate {
		t.Errorf("actions = %s, %s; want unchanged (same spec) and update (egress default deny differs)", changes[0].Action, changes[1].Action)
	}
	if !strings.Contains(changes[1].Before, "egress: false") || !strings.Contains(changes[1].After, "egress: true") {
		t.Errorf("the diff does not show the change:\n%s\n---\n%s", changes[1].Before, changes[1].After)
	}
}

func TestEnforcement(t *testing.T) {
	t.Parallel()
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cilium-config", "namespace": "kube-system"},
		"data":     map[string]any{"enable-policy": "never"}}}
	for _, tc := range []struct {
		objs []runtime.Object
		want string
	}{{nil, ""}, {[]runtime.Object{cm}, "never"}} {
		got, err := Enforcement(context.Background(), fakeCluster(tc.objs...))
		if err != nil || got != tc.want {
			t.Errorf("Enforcement = %q (%v), want %q", got, err, tc.want)
		}
	}
}
