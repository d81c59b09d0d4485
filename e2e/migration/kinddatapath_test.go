package migration

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
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
	// Ansible's fetch keeps the remote path under a directory per host.
	var files []string
	_ = filepath.WalkDir(m.artifacts, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "connectivity-") && strings.HasSuffix(d.Name(), ".json") {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no connectivity report under %s", m.artifacts)
	}
	var rep result.Report
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	for _, p := range rep.Probes {
		t.Logf("probe %-28s %-8s samples=%d %s", p.Name, p.Status, p.Samples, p.Error+p.Reason)
		external := p.Name == "pod-to-external" || p.Name == "dns/external"
		switch {
		case external && p.Status != result.Skipped:
			// The tier's inventory turns them off: nothing outside this machine may be contacted.
			t.Errorf("probe %s left this machine: %s", p.Name, p.Status)
		case !external && p.Status != result.Passed:
			t.Errorf("probe %s through Calico: %s (%s%s)", p.Name, p.Status, p.Error, p.Reason)
		}
		if p.Samples == 0 && p.Status == result.Passed {
			t.Errorf("probe %s passed with no samples", p.Name)
		}
	}
	if len(rep.Probes) == 0 {
		t.Fatal("the report has no probes: nothing crossed the datapath")
	}
	t.Logf("report %s: %s", files[0], rep.Summary)
}
