package migration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/e2eprovider"
)

// cluster is a cluster under test: where its API is, how Ansible reaches its nodes, and its
// e2e-framework provider (which destroys it).
type cluster struct {
	provider   types.E2EClusterProvider
	kubeconfig string
	inventory  string
	nodes      []string
	flavour    string // Calico flavour: manifest or operator
	kubectl    string // the kind tier's kubectl (empty on the lab)
	// isolate makes a node unreachable for Ansible (its network cut off from the controller) until
	// the returned restore runs.
	isolate func(ctx context.Context, node string) (restore func(context.Context) error, err error)
}

// newCluster brings up a cluster running Calico with the selected provider, and destroys it when
// the test ends (also when it fails).
func newCluster(t *testing.T, name, flavour string) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: brings up a cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var c *cluster
	var err error
	switch *providerFlag {
	case "lab":
		c, err = newLabCluster(ctx, t, name, flavour)
	case "kind":
		c, err = newKindCluster(ctx, t, name, flavour)
	default:
		t.Fatalf("unknown --provider %q: want lab or kind", *providerFlag)
	}
	if c != nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if t.Failed() {
				dir := t.TempDir()
				if err := c.provider.ExportLogs(ctx, dir); err == nil {
					t.Logf("cluster logs exported to %s (removed with the test's temp dir)", dir)
				}
			}
			if err := c.provider.Destroy(ctx); err != nil {
				t.Errorf("destroy cluster %s: %v", name, err)
			}
		})
	}
	if err != nil {
		t.Fatalf("bring up a %s cluster with Calico (%s): %v", *providerFlag, flavour, err)
	}
	return c
}

func newLabCluster(ctx context.Context, t *testing.T, name, flavour string) (*cluster, error) {
	if os.Geteuid() != 0 {
		t.Skip("e2e on the lab needs root (network namespaces and sshd for the node hosts)")
	}
	cfg := lab.Defaults()
	cfg.Calico = lab.Calico(flavour)
	cfg.WorkDir = t.TempDir() + "/lab"
	p := e2eprovider.New(cfg)
	p.SetDefaults().WithName(name)
	if dir := os.Getenv("CNIMIGRATE_TOOLS"); dir != "" {
		p.WithPath(dir)
	}
	c := &cluster{provider: p, flavour: flavour}
	kc, err := p.Create(ctx)
	if err != nil {
		return c, err
	}
	c.kubeconfig, c.inventory = kc, p.Lab().InventoryPath()
	ips := map[string]string{}
	for _, n := range p.Lab().Nodes() {
		c.nodes = append(c.nodes, n.Name)
		ips[n.Name] = n.IP
	}
	c.isolate = func(ctx context.Context, node string) (func(context.Context) error, error) {
		return rejectSSH(ctx, ips[node])
	}
	return c, nil
}

// rejectSSH makes the controller's SSH connections to a node host fail at once (a TCP reset, as
// from a node whose sshd is gone), with one iptables rule in this machine's OUTPUT chain.
func rejectSSH(ctx context.Context, ip string) (func(context.Context) error, error) {
	if ip == "" {
		return nil, fmt.Errorf("no address for the node")
	}
	rule := []string{"OUTPUT", "-d", ip + "/32", "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset",
		"-m", "comment", "--comment", "cnimigrate-e2e-unreachable"}
	iptables := func(ctx context.Context, op string) error {
		out, err := exec.CommandContext(ctx, "iptables", append([]string{"-w", op}, rule...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("iptables %s %s: %v: %s", op, strings.Join(rule, " "), err, out)
		}
		return nil
	}
	if err := iptables(ctx, "-I"); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return iptables(ctx, "-D") }, nil
}

// envConfig is an e2e-framework config for this cluster that keeps the suite's flags (labels,
// feature/assess filters, fail-fast, dry-run).
func (c *cluster) envConfig() *envconf.Config {
	cfg := envconf.NewWithKubeConfig(c.kubeconfig).
		WithLabels(suiteFlags.Labels()).WithSkipLabels(suiteFlags.SkipLabels())
	if r := suiteFlags.FeatureRegex(); r != nil {
		cfg.WithFeatureRegex(r.String())
	}
	if r := suiteFlags.AssessmentRegex(); r != nil {
		cfg.WithAssessmentRegex(r.String())
	}
	if r := suiteFlags.SkipFeatureRegex(); r != nil {
		cfg.WithSkipFeatureRegex(r.String())
	}
	if suiteFlags.FailFast() {
		cfg.WithFailFast()
	}
	if suiteFlags.DryRunMode() {
		cfg.WithDryRunMode()
	}
	return cfg
}

// lookTool finds a CLI the kind tier needs, by absolute path only (nothing is ever installed).
func lookTool(name, envVar string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		return p, nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH (or set %s)", name, envVar)
	}
	return p, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
