package migration

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	"sigs.k8s.io/e2e-framework/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// The kind tier's own claims: what only real pods and a real datapath can show.

// kindCiliumPodCIDR is Cilium's pool on the kind tier (the roles' default).
const kindCiliumPodCIDR = "10.245.0.0/16"

// kindFeatures wraps a migration with the prober (started before the migration, read after it) and
// adds the datapath claims; rollback is followed by real probes through Calico again.
func (m *migration) kindFeatures() (before, after, afterRollback []types.Feature) {
	before = []types.Feature{m.proberStarts()}
	after = []types.Feature{
		m.disruptionMeasured(),
		m.probesPassedThroughout(),
		m.ciliumManagesEveryPod(),
		m.translatedPoliciesEnforced(),
	}
	afterRollback = []types.Feature{m.calicoDatapathAfterRollback()}
	return before, after, afterRollback
}

func (m *migration) proberStarts() types.Feature {
	return features.New("the disruption prober runs before the migration").WithLabel("phase", "migrate").
		Assess("every prober client reaches the Service, the pods on other nodes and DNS", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			m.prober = startDisruption(m.cluster.kubectl, m.cluster.kubeconfig)
			time.Sleep(5 * time.Second)
			m.prober.mu.Lock()
			lines := append([]proberLine(nil), m.prober.lines...)
			m.prober.mu.Unlock()
			ok := map[string]bool{}
			for _, l := range lines {
				if l.Sent > 0 && l.Failed == 0 {
					ok[l.Target] = true
				}
			}
			for _, target := range []string{"service", "pod-to-pod", "dns", "control"} {
				if !ok[target] {
					t.Errorf("prober: no successful second for %s before the migration (%d lines read)", target, len(lines))
				}
			}
			return ctx
		}).Feature()
}

func (m *migration) disruptionMeasured() types.Feature {
	return features.New("the disruption is measured").WithLabel("phase", "migrate").
		Assess("the prober ran through the migration and its figures are in the report", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			if m.prober == nil {
				t.Fatal("the prober never started")
			}
			r := m.prober.stop()
			m.prober = nil
			steps, err := migrationSteps(m.cluster.kubectl, m.cluster.kubeconfig)
			if err != nil {
				t.Errorf("the outages cannot be lined up with the migration's phases: %v", err)
			}
			r.explain(steps)
			md := r.markdown(m.strategy)
			t.Log("\n" + md)
			// Beside the migration report, not inside it: the report is the tool's own, and a second
			// run rewriting it would show as a change.
			report := findFile(t, m.artifacts, "migration-report.md")
			if err := os.WriteFile(filepath.Join(filepath.Dir(report), "disruption-report.md"), []byte(md), 0o644); err != nil {
				t.Errorf("write the prober's figures beside %s: %v", report, err)
			}
			span := int(r.To.Sub(r.From).Seconds())
			for _, f := range r.Targets {
				// Each second of the migration must have been probed: a prober that stopped would
				// hide an outage.
				if f.Covered < span*8/10 {
					t.Errorf("prober: %s probed in %d of %d seconds", f.Target, f.Covered, span)
				}
			}
			// The live strategy's goal: no request to the Service fails because of the migration.
			// Failures while the client's own loopback control failed too are this machine's CPU
			// starvation (two cores, three nodes), not the datapath's; they are reported, not counted.
			if svc := figure(r.Targets, "service"); m.strategy == "live" && svc.Failed > svc.Starved {
				t.Errorf("live strategy: %d of %d requests to the Service failed, %d of them while the client's node was not starved "+
					"(longest outage %d s; last error %s); the goal is none",
					svc.Failed, svc.Sent, svc.Failed-svc.Starved, svc.LongestOutage, svc.LastErr)
			}
			return ctx
		}).Feature()
}

// probesPassedThroughout: connectivity_check's reports of the run (baseline on Calico, after each
// node in live, after the migration) show every probe passing with real packets.
func (m *migration) probesPassedThroughout() types.Feature {
	return features.New("connectivity_check's probes passed before, during and after").WithLabel("phase", "migrate").
		Assess("every report the migration wrote has its probes passed", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			reports := connectivityReports(t, m.artifacts)
			want := 2
			if m.strategy == "live" {
				want += len(m.cluster.nodes)
			}
			if len(reports) < want {
				t.Errorf("%d connectivity reports, want at least %d (baseline, after%s)", len(reports), want,
					map[bool]string{true: ", one per node", false: ""}[m.strategy == "live"])
			}
			for name, rep := range reports {
				checkProbes(t, name, rep, m.strategy == "live" && strings.Contains(name, "node"))
			}
			// After each node of a live migration, its check must have sent packets from the node it
			// has just moved (still cordoned then), not only from the others.
			for _, node := range map[bool][]string{true: m.cluster.nodes}[m.strategy == "live"] {
				rep, ok := reports[filepath.Join("connectivity", "connectivity-node-"+node+".json")]
				probed := false
				for _, p := range rep.Probes {
					probed = probed || p.Source != nil && p.Source.Node == node && p.Status == result.Passed
				}
				if ok && !probed {
					t.Errorf("the check after moving node %s sent no packet from it (nodes excluded: %v)", node, rep.Notes)
				}
			}
			return ctx
		}).Feature()
}

// connectivityReports reads every connectivity_check JSON report below dir, by file name.
func connectivityReports(t *testing.T, dir string) map[string]result.Report {
	t.Helper()
	out := map[string]result.Report{}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(d.Name(), ".json") || !strings.Contains(path, "connectivity") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var rep result.Report
		if json.Unmarshal(b, &rep) == nil && len(rep.Probes) > 0 {
			rel, _ := filepath.Rel(dir, path)
			out[rel] = rep
		}
		return nil
	})
	return out
}

// checkProbes fails on any probe that did not pass through the datapath; the external probes must
// be skipped (nothing outside this machine may be contacted), and the policy probe may be left out
// while Cilium enforces no policy (between the nodes of a live migration).
func checkProbes(t *testing.T, name string, rep result.Report, duringLive bool) {
	t.Helper()
	for _, p := range rep.Probes {
		external := p.Name == "pod-to-external" || p.Name == "dns/external"
		policy := strings.HasPrefix(p.Name, "policy")
		switch {
		case external && p.Status != result.Skipped:
			t.Errorf("%s: probe %s left this machine: %s", name, p.Name, p.Status)
		case external, policy && duringLive && p.Status == result.Skipped:
		case p.Status != result.Passed:
			t.Errorf("%s: probe %s: %s (%s%s)", name, p.Name, p.Status, p.Error, p.Reason)
		case p.Samples == 0:
			t.Errorf("%s: probe %s passed with no samples", name, p.Name)
		}
	}
}

// ciliumManagesEveryPod: every pod on the pod network has an address from Cilium's pool and a
// CiliumEndpoint, and every agent says it is healthy (cilium-dbg status, inside the agent pod).
func (m *migration) ciliumManagesEveryPod() types.Feature {
	return features.New("Cilium manages every pod").WithLabel("phase", "migrate").
		Assess("every pod on the pod network has a Cilium address and a CiliumEndpoint", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			pool := netip.MustParsePrefix(kindCiliumPodCIDR)
			pods, err := c.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ceps, err := c.dyn.Resource(schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumendpoints"}).
				Namespace("").List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list CiliumEndpoints: %v", err)
			}
			have := map[string]bool{}
			for _, e := range ceps.Items {
				have[e.GetNamespace()+"/"+e.GetName()] = true
			}
			report := readArtifact(t, m.artifacts, "migration-report.md")
			n := 0
			for _, p := range pods.Items {
				if p.Spec.HostNetwork || p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
					continue
				}
				// A pod no controller owns is not recreated: the report must name it (migrationCompletes).
				if len(p.OwnerReferences) == 0 && strings.Contains(report, p.Name) {
					t.Logf("bare pod %s/%s left as it was (named in the report), address %s", p.Namespace, p.Name, p.Status.PodIP)
					continue
				}
				n++
				key := p.Namespace + "/" + p.Name
				if a, err := netip.ParseAddr(p.Status.PodIP); err != nil || !pool.Contains(a) {
					t.Errorf("pod %s has address %q, not from Cilium's pool %s", key, p.Status.PodIP, pool)
				}
				if !have[key] {
					t.Errorf("pod %s has no CiliumEndpoint", key)
				}
			}
			if n == 0 {
				t.Fatal("no running pod on the pod network: nothing to check")
			}
			return ctx
		}).
		Assess("cilium-dbg status inside every agent pod reports it healthy", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			k := m.cluster
			names, err := kubectlOut(ctx, k.kubectl, k.kubeconfig, "-n", "kube-system", "get", "pods", "-l", "k8s-app=cilium",
				"-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}")
			if err != nil {
				t.Fatal(err)
			}
			agents := strings.Fields(names)
			if len(agents) != len(k.nodes) {
				t.Errorf("%d Cilium agent pods, %d nodes", len(agents), len(k.nodes))
			}
			for _, pod := range agents {
				out, err := kubectlOut(ctx, k.kubectl, k.kubeconfig, "-n", "kube-system", "exec", pod, "-c", "cilium-agent", "--",
					"cilium-dbg", "status", "--brief")
				if err != nil || strings.TrimSpace(out) != "OK" {
					full, _ := kubectlOut(ctx, k.kubectl, k.kubeconfig, "-n", "kube-system", "exec", pod, "-c", "cilium-agent", "--",
						"cilium-dbg", "status")
					t.Errorf("agent %s: cilium-dbg status --brief: %q %v\n%s", pod, strings.TrimSpace(out), err, full)
				}
			}
			return ctx
		}).Feature()
}

// policyPair is a request the lab's policies allow or deny, checked with real packets.
type policyPair struct {
	fromNS, fromDeploy string
	toNS, toService    string
	port               int
	allowed            bool
	why                string
}

// kindPolicyPairs follow from the lab's policies (internal/testbed/lab/manifests): fraud-detector may reach
// MLflow (Calico's fraud-detector-egress and mlflow-isolation, the NetworkPolicy mlflow-isolation);
// the reverse is refused (MLflow's egress is DNS only: allow-cluster-dns; financial-inference
// denies ingress by default); argo and jupyter may not reach MLflow (their egress is DNS only).
var kindPolicyPairs = []policyPair{
	{"financial-inference", "fraud-detector", "mlflow-system", "mlflow", 5000, true, "fraud-detector-egress + mlflow-isolation allow it"},
	{"mlflow-system", "mlflow", "financial-inference", "fraud-detector", 8080, false, "the reverse: MLflow's egress is DNS only, financial-inference denies ingress"},
	{"argo", "argo-server", "mlflow-system", "mlflow", 5000, false, "argo's egress is DNS only, mlflow-isolation admits neither"},
	{"jupyter", "hub", "mlflow-system", "mlflow", 5000, false, "jupyter's egress is DNS only (mlflow-isolation would admit it)"},
}

// checkPolicyPairs sends real requests for each pair and returns the pairs whose verdict is wrong.
func checkPolicyPairs(ctx context.Context, kubectl, kubeconfig string) ([]string, error) {
	var wrong []string
	for _, p := range kindPolicyPairs {
		ip, err := kubectlOut(ctx, kubectl, kubeconfig, "-n", p.toNS, "get", "service", p.toService, "-o", "jsonpath={.spec.clusterIP}")
		if err != nil {
			return nil, err
		}
		url := fmt.Sprintf("http://%s:%d/", strings.TrimSpace(ip), p.port)
		connected := false
		var last string
		for attempt := 0; attempt < 3 && !connected; attempt++ {
			out, err := kubectlOut(ctx, kubectl, kubeconfig, "-n", p.fromNS, "exec", "deploy/"+p.fromDeploy, "--",
				"curl", "-s", "-o", "/dev/null", "-m", "3", "-w", "%{http_code}", url)
			connected = err == nil && strings.TrimSpace(out) == "200"
			last = fmt.Sprintf("%s %v", strings.TrimSpace(out), err)
		}
		if connected != p.allowed {
			wrong = append(wrong, fmt.Sprintf("%s/%s -> %s/%s:%d: want %s (%s), got %s",
				p.fromNS, p.fromDeploy, p.toNS, p.toService, p.port, verdict(p.allowed), p.why, last))
		}
	}
	return wrong, nil
}

func verdict(allowed bool) string {
	if allowed {
		return "connected"
	}
	return "refused"
}

// translatedPoliciesEnforced: after finalize, Cilium enforces the translated policies.
func (m *migration) translatedPoliciesEnforced() types.Feature {
	return features.New("Cilium enforces the translated policies").WithLabel("phase", "migrate").
		Assess("pairs the Calico policies allow connect, pairs they deny are refused, both directions", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			wrong, err := checkPolicyPairs(ctx, m.cluster.kubectl, m.cluster.kubeconfig)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range wrong {
				t.Error("through Cilium: " + w)
			}
			return ctx
		}).Feature()
}

// calicoDatapathAfterRollback: after rollback.yml, connectivity_check's probes pass through Calico.
func (m *migration) calicoDatapathAfterRollback() types.Feature {
	return features.New("the rolled-back Calico datapath carries traffic").WithLabel("phase", "rollback").
		Assess("playbooks/verify.yml's probes pass through Calico", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			start := time.Now()
			if _, err := m.runWith(ctx, t, "playbooks/verify.yml", map[string]any{"cni_verify_cni": "calico"}, runOptions{allTags: true}); err != nil {
				t.Fatalf("playbooks/verify.yml after rollback: %v", err)
			}
			n := 0
			for name, rep := range connectivityReports(t, m.artifacts) {
				// verify.yml writes connectivity-after.json again: only what this run wrote counts.
				if fi, err := os.Stat(filepath.Join(m.artifacts, name)); err != nil || fi.ModTime().Before(start) {
					continue
				}
				n++
				checkProbes(t, name, rep, false)
			}
			if n == 0 {
				t.Fatal("verify.yml wrote no new connectivity report")
			}
			return ctx
		}).Feature()
}
