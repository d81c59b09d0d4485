package state

import (
	"context"
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
)

// TestIntegrationStateOnTheLab records a migration's progress in the lab's API server, reads it
// back through a fresh client, survives concurrent writers and is deleted by state=absent.
func TestIntegrationStateOnTheLab(t *testing.T) {
	l, c := apiServer(t)
	ctx := context.Background()
	cms := c.Kube.CoreV1()

	run(t, cms, Parameters{State: StateSet, Strategy: "live", Phase: "backup", PhaseStatus: PhaseStarted}, false)
	run(t, cms, Parameters{State: StateSet, Phase: "backup", Data: map[string]any{"backup_dir": "/var/lib/x"}}, false)

	// Concurrent writers (one per node) must all land: optimistic concurrency retries on conflict.
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Run(ctx, cms, Parameters{State: StateSet, Node: fmt.Sprintf("node-%d", i), Phase: "migrated"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}

	fresh, err := k8s.FromConfig(l.RESTConfig(), l.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	v := NewView(run(t, fresh.Kube.CoreV1(), Parameters{}, false).After)
	if v.Strategy != "live" || v.Phase != "backup" || v.Data["backup_dir"] != "/var/lib/x" || len(v.Nodes) != 6 {
		t.Fatalf("read back %+v", v)
	}
	if again := run(t, cms, Parameters{State: StateSet, Phase: "backup"}, false); again.Changed() {
		t.Fatalf("re-recording a completed phase changed %v", again.Plan)
	}
	cm, err := cms.ConfigMaps("kube-system").Get(ctx, "cnimigrate-state", metav1.GetOptions{})
	if err != nil || cm.Data["phase"] != "backup" {
		t.Fatalf("ConfigMap kube-system/cnimigrate-state: %v %v", err, cm)
	}
	run(t, cms, Parameters{State: StateAbsent}, false)
	if _, err := cms.ConfigMaps("kube-system").Get(ctx, "cnimigrate-state", metav1.GetOptions{}); err == nil {
		t.Fatal("state=absent left the ConfigMap")
	}
}

// apiServer starts a lab with only its control plane (no node hosts, workloads or Calico) and
// returns it with clients of its API server.
func apiServer(t *testing.T) (*lab.Lab, *k8s.Clients) {
	t.Helper()
	cfg := lab.Defaults()
	cfg.Hosts, cfg.Workloads, cfg.Calico = false, false, lab.CalicoNone
	l := labtest.Start(t, cfg)
	c, err := k8s.FromConfig(l.RESTConfig(), l.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	return l, c
}
