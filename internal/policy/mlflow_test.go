package policy

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/yaml"
)

// articleCNP is the hand-written "mlflow-enhanced-isolation" policy of the migration article
// (part 9, "Convert existing Calico policies to Cilium format").
const articleCNP = `
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: mlflow-enhanced-isolation
spec:
  endpointSelector:
    matchLabels:
      app: mlflow
  ingress:
  - fromEndpoints:
    - matchLabels:
        k8s:io.kubernetes.pod.namespace: financial-inference
    toPorts:
    - ports:
      - port: "5000"
        protocol: TCP
`

// TestArticleMlflowIsolation compares the translation of the article's mlflow-isolation policy with
// the article's hand translation, over the same pods.
func TestArticleMlflowIsolation(t *testing.T) {
	t.Parallel()
	var article CiliumPolicy
	if err := yaml.UnmarshalStrict([]byte(articleCNP), &article); err != nil {
		t.Fatal(err)
	}
	res := translateFile(t, "testdata/calico/13-mlflow-isolation.yaml")
	byName := map[string]CiliumPolicy{}
	for _, o := range res.Objects {
		byName[o.Metadata.Name] = o
	}
	byNamespaceName, byLabel := byName["calico-mlflow-isolation"], byName["calico-mlflow-isolation-by-label"]
	if byNamespaceName.Spec == nil || byLabel.Spec == nil {
		t.Fatalf("want both variants translated, got %v", res.Objects)
	}
	pods := testPods(2000)
	// Cilium scopes a CiliumNetworkPolicy's endpointSelector to its namespace: compare there.
	articleSubject := ciliumSelector(t, []metav1.LabelSelector{article.Spec.EndpointSelector})
	ours := ciliumSelector(t, []metav1.LabelSelector{byNamespaceName.Spec.EndpointSelector})
	for _, p := range pods {
		if p.ns.name != "mlflow-system" {
			if ciliumMatches(ours, p) {
				t.Fatalf("the translation applies to %+v outside mlflow-system", p)
			}
			continue
		}
		if ciliumMatches(articleSubject, p) != ciliumMatches(ours, p) {
			t.Fatalf("the article's policy and the translation disagree on which pods are protected: %+v", p)
		}
	}
	articleFrom := ciliumSelector(t, article.Spec.Ingress[0].FromEndpoints)
	oursFrom := ciliumSelector(t, byNamespaceName.Spec.Ingress[0].FromEndpoints)
	impostor := 0
	labelFrom := ciliumSelector(t, byLabel.Spec.Ingress[0].FromEndpoints)
	for _, p := range pods {
		if ciliumMatches(articleFrom, p) != ciliumMatches(oursFrom, p) {
			t.Fatalf("the article's policy and the translation disagree on who may connect: %+v", p)
		}
		if p.ns.name == "impostor" && ciliumMatches(labelFrom, p) && !ciliumMatches(articleFrom, p) {
			impostor++
		}
	}
	// The Calico policy allows every port; the article's version narrowed it to TCP 5000, a change
	// of behaviour the translation does not make.
	if len(byNamespaceName.Spec.Ingress[0].ToPorts) != 0 {
		t.Errorf("the translation restricts ports: %+v", byNamespaceName.Spec.Ingress[0].ToPorts)
	}
	// Selecting the namespace by its label name=financial-inference (what the article's Kubernetes
	// policy says) also admits any namespace carrying that label; the article's translation by
	// namespace name does not: they are not equivalent.
	if impostor == 0 {
		t.Error("the by-label translation should admit pods of another namespace labelled name=financial-inference")
	}
}
