package policy

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The same policy as stored (crd v1, "default." prefix) and as served (v3): the v3 copy wins.
	write("networkpolicies.crd.projectcalico.org.yaml", `---
apiVersion: crd.projectcalico.org/v1
kind: NetworkPolicy
metadata: {name: default.api, namespace: shop}
spec: {selector: "app == 'old'"}
---
# a comment-only document
---
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkSet
metadata: {name: partners, labels: {role: partner}}
spec: {nets: [192.0.2.0/24]}
`)
	write("v3.yml", `apiVersion: v1
kind: List
items:
- apiVersion: projectcalico.org/v3
  kind: NetworkPolicy
  metadata: {name: api, namespace: shop}
  spec: {selector: "app == 'api'", bogus: 1}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: unrelated}
`)
	write("manifest.json", `{"format": "cnimigrate.calico-backup/v1", "kinds": [{"group": "networking.k8s.io", "resource": "networkpolicies"}]}`)
	write("notes.txt", "not YAML at all: [")
	in, err := LoadBackup(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Policies) != 1 || in.Policies[0].APIVersion != APIVersionV3 || in.Policies[0].Spec.Selector != "app == 'api'" {
		t.Fatalf("policies = %+v, want the v3 copy of shop/api", in.Policies)
	}
	if got := in.Policies[0].Unknown; len(got) != 1 || got[0] != "spec.bogus" {
		t.Errorf("unknown fields = %v, want spec.bogus", got)
	}
	if len(in.Notes) != 1 || !strings.Contains(in.Notes[0].Reason, "read twice") {
		t.Errorf("notes = %v, want one about the duplicate", in.Notes)
	}
	if len(in.NetworkSets) != 1 || in.NetworkSets[0].Labels["role"] != "partner" {
		t.Errorf("network sets = %v", in.NetworkSets)
	}
	if in.K8sPolicyNamespaces == nil || len(in.K8sPolicyNamespaces) != 0 {
		t.Errorf("the manifest lists Kubernetes NetworkPolicies (none backed up): want a known, empty set, got %v", in.K8sPolicyNamespaces)
	}
	if _, err := LoadBackup(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.yaml") {
		t.Errorf("an empty backup dir should fail, got %v", err)
	}
}

func TestUnknownFieldsAreReported(t *testing.T) {
	t.Parallel()
	p, err := DecodePolicy(map[string]any{"apiVersion": APIVersionV3, "kind": KindNetworkPolicy,
		"metadata": map[string]any{"name": "x", "namespace": "ns"},
		"spec": map[string]any{"selector": "all()", "ingress": []any{map[string]any{"action": "Allow",
			"source": map[string]any{"selector": "a == 'b'", "futureMatch": "x"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(Input{Policies: []Policy{p}}, Options{ClusterCIDRs: testCIDRs})
	if err != nil {
		t.Fatal(err)
	}
	u := res.Report.Untranslatable()
	if len(u) != 1 || u[0].Field != "spec.ingress[0].source.futureMatch" {
		t.Errorf("untranslatable = %v, want the unknown field", u)
	}
}

func TestCiliumName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 260)
	tests := []struct {
		global bool
		in     string
		want   string
	}{
		{false, "allow-tcp-6379", "calico-allow-tcp-6379"},
		{true, "allow-tcp-6379", "calico-global-allow-tcp-6379"},
		{true, "security.pass", "calico-global-security.pass"},
		{false, "Allow_DNS", "calico-allow-dns-" + shortHash("Allow_DNS")},
		{false, long, "calico-" + strings.Repeat("a", 253-9-len("calico-")) + "-" + shortHash(long)},
	}
	for _, tc := range tests {
		if got := CiliumName(tc.global, tc.in); got != tc.want || len(got) > 253 {
			t.Errorf("CiliumName(%v, %q) = %q, want %q", tc.global, tc.in, got, tc.want)
		}
	}
	if CiliumName(false, "allow_dns") == CiliumName(false, "allow-dns") {
		t.Error("names differing only in invalid characters must not collide")
	}
}

func TestAddrSetRelation(t *testing.T) {
	t.Parallel()
	cluster := []netip.Prefix{netip.MustParsePrefix("10.42.0.0/16"), netip.MustParsePrefix("192.168.1.0/24")}
	tests := []struct {
		nets, notNets []string
		want          clusterRelation
		cidrs         string // rendered CIDR peers
	}{
		{[]string{"1.2.3.4"}, nil, disjointFromCluster, "1.2.3.4/32"},
		{[]string{"10.0.0.0/8", "192.168.0.0/16"}, nil, coversCluster, "10.0.0.0/8 192.168.0.0/16"},
		{[]string{"10.42.3.0/24"}, nil, partlyCluster, ""},
		{nil, []string{"10.0.0.0/8", "192.168.0.0/16"}, disjointFromCluster, "0.0.0.0/0-[10.0.0.0/8 192.168.0.0/16] ::/0"},
		{nil, []string{"10.42.0.0/16"}, partlyCluster, ""},
		{[]string{"0.0.0.0/0"}, []string{"203.0.113.0/24"}, coversCluster, "0.0.0.0/0-[203.0.113.0/24]"},
		{[]string{"10.42.0.0/16", "192.168.1.0/24"}, []string{"10.42.0.0/16"}, partlyCluster, ""},
		{[]string{"10.0.0.0/8"}, []string{"10.0.0.0/8"}, disjointFromCluster, ""},
	}
	for _, tc := range tests {
		nets, _ := parsePrefixes(tc.nets)
		not, _ := parsePrefixes(tc.notNets)
		a := addrSet{nets: nets, notNets: not}
		if got := a.relation(cluster); got != tc.want {
			t.Errorf("nets %v notNets %v: relation %d, want %d", tc.nets, tc.notNets, got, tc.want)
		}
		if tc.want == partlyCluster {
			continue
		}
		cidrs, set := a.cilium()
		var parts []string
		parts = append(parts, cidrs...)
		for _, r := range set {
			s := r.CIDR
			if len(r.Except) > 0 {
				s += "-" + "[" + strings.Join(r.Except, " ") + "]"
			}
			parts = append(parts, s)
		}
		if got := strings.Join(parts, " "); got != tc.cidrs {
			t.Errorf("nets %v notNets %v: CIDR peers %q, want %q", tc.nets, tc.notNets, got, tc.cidrs)
		}
	}
}

// Kubernetes NetworkPolicies sit at order 1000 in Calico: before a Deny of higher (or no) order,
// after one of lower order.
func TestKubernetesPoliciesInTheOrderCheck(t *testing.T) {
	t.Parallel()
	tcp22 := Rule{Protocol: ptr(Protocol("TCP")), Destination: EntityRule{Ports: []Port{"22"}}}
	allow, deny := tcp22, tcp22
	allow.Action, deny.Action = "Allow", "Deny"
	allow.Source = EntityRule{Selector: "role == 'bastion'"}
	denyOnly := Policy{Kind: KindNetworkPolicy, Metadata: Metadata{Name: "deny-ssh", Namespace: "web"},
		Spec: Spec{Ingress: []Rule{deny}}}
	allowThenDeny := Policy{Kind: KindNetworkPolicy, Metadata: Metadata{Name: "bastion-ssh", Namespace: "web"},
		Spec: Spec{Order: ptr(500.0), Ingress: []Rule{allow, deny}}}
	for _, tc := range []struct {
		name           string
		p              Policy
		k8s            map[string]bool
		untranslatable int
		notes          int
		denyKept       bool
	}{
		{"unknown", denyOnly, nil, 0, 1, true},
		{"none in the namespace", denyOnly, map[string]bool{"other": true}, 0, 0, true},
		// They allow first; whatever they do not allow, default deny drops: leaving the Deny out is exact.
		{"before the deny", denyOnly, map[string]bool{"web": true}, 0, 1, false},
		// The earlier Allow pre-empts the Deny; the Deny pre-empts them: not expressible.
		{"after the deny", allowThenDeny, map[string]bool{"web": true}, 1, 0, false},
		{"after the deny, none there", allowThenDeny, map[string]bool{}, 0, 1, false},
	} {
		res, err := Translate(Input{Policies: []Policy{tc.p}, K8sPolicyNamespaces: tc.k8s}, Options{ClusterCIDRs: testCIDRs})
		if err != nil {
			t.Fatal(err)
		}
		rep := res.Report.Policies[0]
		if len(rep.Untranslatable) != tc.untranslatable || len(rep.Notes) != tc.notes {
			t.Errorf("%s: untranslatable %v, notes %v", tc.name, rep.Untranslatable, rep.Notes)
		}
		if kept := len(res.Objects[0].Spec.IngressDeny) > 0; kept != tc.denyKept {
			t.Errorf("%s: deny kept = %v, want %v", tc.name, kept, tc.denyKept)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Cilium leaves some pod labels out of identities (its default label filter): selectors on them
// would never match, so they are reported.
func TestLabelsOutsideCiliumIdentities(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"app": true, "k8s-app": true, "app.kubernetes.io/name": true, "tier": true,
		"statefulset.kubernetes.io/pod-name": false, "pod-template-hash": false, "controller-revision-hash": false,
		"kubernetes.io/hostname": false, "topology.kubernetes.io/zone": false, "failure-domain.beta.kubernetes.io/zone": false,
		"io.kubernetes.container.name": false, "batch.kubernetes.io/controller-uid": false,
	} {
		if _, err := podKey(key); (err == nil) != want {
			t.Errorf("podKey(%q) error = %v, want translatable %v", key, err, want)
		}
	}
}

// A Deny after an Allow that cannot match the same traffic keeps its place: Cilium's deny-first
// gives the same result.
func TestDenyAfterDisjointAllowIsKept(t *testing.T) {
	t.Parallel()
	allowDB := Rule{Action: "Allow", Protocol: ptr(Protocol("TCP")), Destination: EntityRule{Selector: "app == 'db'", Ports: []Port{"5432"}}}
	for name, deny := range map[string]Rule{
		"external addresses": {Action: "Deny", Destination: EntityRule{Nets: []string{"203.0.113.0/24"}}},
		"another protocol":   {Action: "Deny", Protocol: ptr(Protocol("UDP"))},
		"other ports":        {Action: "Deny", Protocol: ptr(Protocol("TCP")), Destination: EntityRule{Ports: []Port{"1:1024"}}},
		"other pods":         {Action: "Deny", Destination: EntityRule{Selector: "app == 'cache'"}},
	} {
		p := Policy{Kind: KindNetworkPolicy, Metadata: Metadata{Name: "p", Namespace: "shop"},
			Spec: Spec{Types: []string{"Egress"}, Egress: []Rule{allowDB, deny}}}
		res, err := Translate(Input{Policies: []Policy{p}, K8sPolicyNamespaces: map[string]bool{}}, Options{ClusterCIDRs: testCIDRs})
		if err != nil {
			t.Fatal(err)
		}
		rep := res.Report.Policies[0]
		if !rep.Complete || len(rep.Notes) != 0 || len(res.Objects[0].Spec.EgressDeny) == 0 {
			t.Errorf("%s: want the deny kept with nothing to report, got deny %v, report %+v", name, res.Objects[0].Spec.EgressDeny, rep)
		}
	}
}
