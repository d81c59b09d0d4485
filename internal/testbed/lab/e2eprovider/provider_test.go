package e2eprovider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/klient"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/envfuncs"
	"sigs.k8s.io/e2e-framework/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/e2eprovider"
)

func TestWithVersionRejectsOtherVersions(t *testing.T) {
	t.Parallel()
	p := e2eprovider.New(lab.Defaults()).WithVersion("v1.30.0")
	if _, err := p.Create(context.Background()); err == nil {
		t.Fatal("Create with another Kubernetes version succeeded")
	}
}

// TestIntegrationProvider drives the provider the way e2e-framework's envfuncs do.
func TestIntegrationProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lab")
	}
	name := fmt.Sprintf("e2e%d", os.Getpid())
	p := e2eprovider.New(lab.Config{})
	p.WithOpts(e2eprovider.WithConfig(func(c *lab.Config) { c.WorkDir = filepath.Join(t.TempDir(), "lab") }))
	cfg := envconf.New()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ctx, err := envfuncs.CreateClusterWithOpts(p, name, e2eprovider.WithConfig(func(c *lab.Config) {
		c.Hosts, c.Agents = false, 1
	}))(ctx, cfg)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = p.Destroy(context.Background()) })
	if cfg.KubeconfigFile() != p.GetKubeconfig() || p.GetKubeconfig() == "" {
		t.Errorf("envconf kubeconfig %q, provider %q", cfg.KubeconfigFile(), p.GetKubeconfig())
	}
	client, err := klient.New(p.KubernetesRestConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitForControlPlane(ctx, client); err != nil {
		t.Fatalf("WaitForControlPlane: %v", err)
	}
	logs := t.TempDir()
	if err := p.ExportLogs(ctx, logs); err != nil {
		t.Fatalf("ExportLogs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(logs, "logs", "kube-apiserver.log")); err != nil {
		t.Errorf("exported logs lack kube-apiserver.log: %v", err)
	}
	if _, err := envfuncs.DestroyCluster(name)(ctx, cfg); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, err := os.Stat(p.Lab().WorkDir()); !os.IsNotExist(err) {
		t.Errorf("work dir left after Destroy: %v", err)
	}
	var _ types.E2EClusterProvider = p
}
