package migration

import (
	"context"
	"testing"
)

// TestKindCalicoDatapath: on a kind cluster running Calico, connectivity_check's probes send real
// packets through Calico's datapath and pass — pod to pod on the same node and across nodes, pod
// to Service, DNS — through playbooks/verify.yml, as an operator checks a cluster before migrating.
func TestKindCalicoDatapath(t *testing.T) {
	if *providerFlag != "kind" {
		t.Skip("kind tier only (make e2e-kind): the lab's pods are kwok's, and the probes need real pods")
	}
	m := &migration{scenario: scenario{"replace", "manifest"}, library: requireModules(t), root: repoRoot(t), artifacts: t.TempDir()}
	m.cluster = newCluster(t, "e2e-kind-calico", "manifest")
	ctx, cancel := context.WithTimeout(context.Background(), playbookTimeout)
	defer cancel()
	if _, err := m.runWith(ctx, t, "playbooks/verify.yml", map[string]any{"cni_verify_cni": "calico"}, runOptions{allTags: true}); err != nil {
		t.Fatalf("playbooks/verify.yml on Calico: %v", err)
	}
	reports := connectivityReports(t, m.artifacts)
	if len(reports) == 0 {
		t.Fatalf("no connectivity report under %s: nothing crossed the datapath", m.artifacts)
	}
	for name, rep := range reports {
		checkProbes(t, name, rep, false)
		t.Logf("report %s: %s", name, rep.Summary)
	}
}
