package policy

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/cnimigrate/cnimigrate/internal/policy/selector"
)

// The semantic tests evaluate Calico's selectors the way Calico does (Calico's own labels added to
// pods and namespaces) and the translated Cilium selectors the way Cilium does (Kubernetes label
// selectors over the identity labels Cilium gives a pod), over a population of pods, and require
// that both select exactly the same pods.

type testNamespace struct {
	name   string
	labels map[string]string
}

type testPod struct {
	ns     testNamespace
	labels map[string]string
	sa     string
}

var testNamespaces = []testNamespace{
	{"production", map[string]string{"shape": "circle", "environment": "production"}},
	{"shop", map[string]string{"monitoring": "enabled", "environment": "production"}},
	{"dev", map[string]string{"team": "a", "environment": "sandbox"}},
	{"staging", map[string]string{"team": "b"}},
	{"kube-system", map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
	{"financial-inference", map[string]string{"name": "financial-inference"}},
	{"impostor", map[string]string{"name": "financial-inference", "shape": "square"}},
	{"mlflow-system", nil},
	{"data", map[string]string{"environment": "production"}},
	{"prod-engineering", nil},
	{"streaming", map[string]string{"monitoring": "disabled"}},
}

var testPodLabels = map[string][]string{
	"app":      {"api", "api-canary", "db", "mlflow", "checkout", "frontend", "statsd", "postgres", "prometheus", "client", "web", "billing"},
	"tier":     {"frontend", "db", "cache", "backend"},
	"role":     {"database", "frontend", "proxy", "cache"},
	"color":    {"red", "blue"},
	"env":      {"dev", "prod"},
	"legacy":   {"true"},
	"stateful": {"yes"},
	"k8s-app":  {"kube-dns"},
}

var testServiceAccounts = []string{"default", "api-service", "user-auth-service"}

// testPods draws a fixed, seeded population of pods.
func testPods(n int) []testPod {
	rng := rand.New(rand.NewPCG(20, 26))
	keys := slices.Sorted(maps.Keys(testPodLabels))
	pods := make([]testPod, n)
	for i := range pods {
		l := map[string]string{}
		for _, k := range keys {
			if rng.IntN(2) == 0 {
				vs := testPodLabels[k]
				l[k] = vs[rng.IntN(len(vs))]
			}
		}
		pods[i] = testPod{ns: testNamespaces[rng.IntN(len(testNamespaces))], labels: l,
			sa: testServiceAccounts[rng.IntN(len(testServiceAccounts))]}
	}
	return pods
}

// calicoPodLabels are the labels Calico evaluates a pod selector against.
func (p testPod) calicoPodLabels() map[string]string {
	l := maps.Clone(p.labels)
	l[calicoNamespaceLabel] = p.ns.name
	l[calicoServiceAccountLabel] = p.sa
	for k, v := range p.ns.labels {
		l[calicoNamespaceLabelPfx+k] = v
	}
	return l
}

// calicoNamespaceLabels are the labels Calico evaluates a namespace selector against.
func (p testPod) calicoNamespaceLabels() map[string]string {
	l := maps.Clone(p.ns.labels)
	if l == nil {
		l = map[string]string{}
	}
	l[calicoNameLabel] = p.ns.name
	return l
}

// ciliumLabels are the pod's Cilium identity labels, without the "k8s:" source prefix (which
// Kubernetes label selectors cannot parse); ciliumMatches strips it from selectors too.
func (p testPod) ciliumLabels() k8slabels.Set {
	l := maps.Clone(p.labels)
	l[strings.TrimPrefix(ciliumNamespaceKey, "k8s:")] = p.ns.name
	l[strings.TrimPrefix(ciliumServiceAccountKey, "k8s:")] = p.sa
	for k, v := range p.ns.labels {
		l[strings.TrimPrefix(ciliumNamespaceLabels, "k8s:")+k] = v
	}
	return l
}

// ciliumSelector converts translated selectors to Kubernetes selectors over ciliumLabels.
func ciliumSelector(t *testing.T, sels []metav1.LabelSelector) []k8slabels.Selector {
	t.Helper()
	var out []k8slabels.Selector
	for _, s := range sels {
		s = *s.DeepCopy()
		ml := map[string]string{}
		for k, v := range s.MatchLabels {
			ml[strings.TrimPrefix(k, "k8s:")] = v
		}
		s.MatchLabels = ml
		for i := range s.MatchExpressions {
			s.MatchExpressions[i].Key = strings.TrimPrefix(s.MatchExpressions[i].Key, "k8s:")
		}
		ks, err := metav1.LabelSelectorAsSelector(&s)
		if err != nil {
			t.Fatalf("translated selector %v is not a valid label selector: %v", s, err)
		}
		out = append(out, ks)
	}
	return out
}

func ciliumMatches(sels []k8slabels.Selector, p testPod) bool {
	for _, s := range sels {
		if s.Matches(p.ciliumLabels()) {
			return true
		}
	}
	return false
}

var parsed sync.Map // selector text → *selector.Selector

func calicoEval(t *testing.T, sel string, labels map[string]string) bool {
	t.Helper()
	if s, ok := parsed.Load(sel); ok {
		return s.(*selector.Selector).Evaluate(labels)
	}
	s, err := selector.Parse(sel)
	if err != nil {
		t.Fatalf("corpus selector %q: %v", sel, err)
	}
	parsed.Store(sel, s)
	return s.Evaluate(labels)
}

// calicoSubject: does Calico apply policy p to the pod?
func calicoSubject(t *testing.T, p Policy, pod testPod) bool {
	if p.Kind == KindNetworkPolicy && pod.ns.name != p.Metadata.Namespace {
		return false
	}
	if !calicoEval(t, p.Spec.Selector, pod.calicoPodLabels()) {
		return false
	}
	return p.Kind == KindNetworkPolicy || calicoEval(t, p.Spec.NamespaceSelector, pod.calicoNamespaceLabels())
}

// calicoPeer: does a rule's entity (selector, namespaceSelector, serviceAccounts.names) match the pod?
func calicoPeer(t *testing.T, p Policy, e EntityRule, pod testPod) bool {
	if !calicoEval(t, e.Selector, pod.calicoPodLabels()) {
		return false
	}
	switch {
	case e.NamespaceSelector != "":
		if !calicoEval(t, e.NamespaceSelector, pod.calicoNamespaceLabels()) {
			return false
		}
	case p.Kind == KindNetworkPolicy && pod.ns.name != p.Metadata.Namespace:
		return false
	}
	return e.ServiceAccounts == nil || len(e.ServiceAccounts.Names) == 0 || slices.Contains(e.ServiceAccounts.Names, pod.sa)
}

// assertSamePods compares a translated policy with its Calico source over the pod population. It
// returns the policy's report.
func assertSamePods(t *testing.T, p Policy, pods []testPod) PolicyReport {
	t.Helper()
	res, err := Translate(Input{Policies: []Policy{p}}, Options{ClusterCIDRs: testCIDRs})
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report.Policies[0]
	if len(res.Objects) == 0 && !rep.Complete {
		return rep // not written, and reported (the corpus test checks the report)
	}
	var subject []metav1.LabelSelector
	if len(res.Objects) == 1 {
		o := res.Objects[0]
		for _, r := range append(o.Specs, derefRule(o.Spec)...) {
			subject = append(subject, r.EndpointSelector)
		}
	}
	subjectSel := ciliumSelector(t, subject)
	for _, pod := range pods {
		if want, got := calicoSubject(t, p, pod), ciliumMatches(subjectSel, pod); want != got {
			t.Fatalf("%s: Calico applies it to %+v: %v; the Cilium endpointSelectors %v: %v", p.Metadata.Name, pod, want, subject, got)
		}
	}
	c := newPolicyCtx(p, nil, Options{ClusterCIDRs: testCIDRs, MaxSelectors: 64})
	for dir, rules := range map[string][]Rule{"ingress": p.Spec.Ingress, "egress": p.Spec.Egress} {
		for i, r := range rules {
			remote := r.Source
			if dir == "egress" {
				remote = r.Destination
			}
			if remote.Selector == "" && remote.NamespaceSelector == "" && remote.ServiceAccounts == nil {
				continue
			}
			peers, _, v := c.peer(remote, "peer", ruleLoc{dir, i}, 0)
			if v == peerFails {
				continue
			}
			peerSel := ciliumSelector(t, peers.endpoints)
			for _, pod := range pods {
				if want, got := calicoPeer(t, p, remote, pod), v == peerOK && ciliumMatches(peerSel, pod); want != got {
					t.Fatalf("%s %s[%d]: Calico's peer matches %+v: %v; the Cilium peer selectors %v: %v", p.Metadata.Name, dir, i, pod, want, peers.endpoints, got)
				}
			}
		}
	}
	return rep
}

func derefRule(r *CiliumRule) []CiliumRule {
	if r == nil {
		return nil
	}
	return []CiliumRule{*r}
}

// TestCorpusSelectsSamePods runs the semantic comparison over every corpus policy whose selectors
// translate.
func TestCorpusSelectsSamePods(t *testing.T) {
	files, _ := filepath.Glob("testdata/calico/*.yaml")
	pods := testPods(2000)
	for _, f := range files {
		c := newCollector()
		if err := c.readFile(f); err != nil {
			t.Fatal(err)
		}
		for _, p := range c.in.Policies {
			if _, _, err := mustSelector(p.Spec.Selector).ToDNF(podKey, 64); err != nil {
				continue // untranslatable subject: nothing written, checked by the corpus test
			}
			t.Run(filepath.Base(f)+"/"+p.Metadata.Name, func(t *testing.T) { assertSamePods(t, p, pods) })
		}
	}
}

func mustSelector(s string) *selector.Selector {
	sel, err := selector.Parse(s)
	if err != nil {
		panic(err)
	}
	return sel
}

// TestGeneratedPoliciesSelectSamePods does the same for random selectors over pod labels,
// namespace labels (pcns.*), projectcalico.org/namespace and projectcalico.org/name.
func TestGeneratedPoliciesSelectSamePods(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	pods := testPods(600)
	podAtoms := []string{`app == 'api'`, `app != 'db'`, `has(tier)`, `!has(color)`, `role in {'proxy', 'frontend'}`,
		`tier not in {'db'}`, `pcns.environment == 'production'`, `projectcalico.org/namespace == 'shop'`,
		`projectcalico.org/namespace != 'dev'`, `has(pcns.team)`, `projectcalico.org/serviceaccount == 'api-service'`}
	nsAtoms := []string{`environment == 'production'`, `has(team)`, `projectcalico.org/name in {'dev', 'shop'}`,
		`name != 'financial-inference'`, `!has(environment)`, `projectcalico.org/name == 'production'`, `shape not in {'circle'}`}
	for i := range 150 {
		p := Policy{Kind: KindNetworkPolicy, Metadata: Metadata{Name: fmt.Sprintf("gen-%d", i), Namespace: "shop"}}
		if i%2 == 1 {
			p.Kind, p.Metadata.Namespace = KindGlobalNetworkPolicy, ""
			p.Spec.NamespaceSelector = randomExpr(rng, nsAtoms, 2)
		}
		p.Spec.Selector = randomExpr(rng, podAtoms, 2)
		src := EntityRule{Selector: randomExpr(rng, podAtoms, 2)}
		if rng.IntN(2) == 0 {
			src.NamespaceSelector = randomExpr(rng, nsAtoms, 1)
		}
		p.Spec.Ingress = []Rule{{Action: "Allow", Source: src}}
		if rep := assertSamePods(t, p, pods); !rep.Complete {
			t.Errorf("%s (selector %q, source %+v) should translate completely: %v", p.Metadata.Name, p.Spec.Selector, src, rep.Untranslatable)
		}
	}
}

func randomExpr(rng *rand.Rand, atoms []string, depth int) string {
	if depth == 0 || rng.IntN(3) == 0 {
		return atoms[rng.IntN(len(atoms))]
	}
	l, r := randomExpr(rng, atoms, depth-1), randomExpr(rng, atoms, depth-1)
	switch rng.IntN(3) {
	case 0:
		return "(" + l + ") && (" + r + ")"
	case 1:
		return "(" + l + ") || (" + r + ")"
	}
	return "!(" + l + ")"
}
