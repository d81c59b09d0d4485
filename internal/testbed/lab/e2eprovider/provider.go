// Package e2eprovider is an e2e-framework cluster provider (types.E2EClusterProvider) over the lab,
// so that e2e suites run unchanged on the lab and on kind:
//
//	testenv.Setup(envfuncs.CreateCluster(e2eprovider.New(lab.Defaults()), "cnm-e2e"))
//	testenv.Finish(envfuncs.DestroyCluster("cnm-e2e"))
//
// Create brings the lab up and waits for nodes, Calico and workloads; it never downloads anything:
// WithPath names the tools dir (default: the hack/tools.sh cache).
package e2eprovider

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/e2e-framework/klient"
	"sigs.k8s.io/e2e-framework/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

// Provider runs one lab.
type Provider struct {
	cfg     lab.Config
	version string
	lab     *lab.Lab
}

var _ types.E2EClusterProvider = (*Provider)(nil)

// New returns a provider for labs configured like cfg (start from lab.Defaults()).
func New(cfg lab.Config) *Provider { return &Provider{cfg: cfg} }

// WithConfig is a ClusterOpts that edits the lab's config.
func WithConfig(edit func(*lab.Config)) types.ClusterOpts {
	return func(c types.E2EClusterProvider) {
		if p, ok := c.(*Provider); ok {
			edit(&p.cfg)
		}
	}
}

// WithName names the lab (lower-case letters, digits, '-', at most 20 characters).
func (p *Provider) WithName(name string) types.E2EClusterProvider { p.cfg.Name = name; return p }

// WithVersion pins the Kubernetes version; the lab runs only defaults.LabKubeVersion, Create fails
// on any other.
func (p *Provider) WithVersion(v string) types.E2EClusterProvider { p.version = v; return p }

// WithPath names the tools dir, or any binary inside it (e.g. .../bin/kwokctl).
func (p *Provider) WithPath(path string) types.E2EClusterProvider {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		path = filepath.Dir(path)
	}
	p.cfg.ToolsDir = path
	return p
}

// WithOpts applies ClusterOpts (see WithConfig).
func (p *Provider) WithOpts(opts ...types.ClusterOpts) types.E2EClusterProvider {
	for _, o := range opts {
		o(p)
	}
	return p
}

// SetDefaults fills in lab.Defaults() where the config is unset.
func (p *Provider) SetDefaults() types.E2EClusterProvider {
	d := lab.Defaults()
	if p.cfg.Servers+p.cfg.Agents == 0 { // an unset config: the defaults, keeping what was set
		p.cfg.Servers, p.cfg.Agents, p.cfg.Workloads, p.cfg.Hosts = d.Servers, d.Agents, d.Workloads, d.Hosts
	}
	if p.cfg.Name == "" {
		p.cfg.Name = d.Name
	}
	if p.cfg.Calico == "" {
		p.cfg.Calico = d.Calico
	}
	if p.cfg.Hosts && os.Geteuid() != 0 {
		p.cfg.Hosts = false // node hosts need root; the cluster itself does not
	}
	return p
}

// Create brings the lab up. args may override the config: --servers N, --agents N,
// --calico manifest|operator|none, --no-workloads, --no-hosts.
func (p *Provider) Create(ctx context.Context, args ...string) (string, error) {
	if p.version != "" && p.version != defaults.LabKubeVersion {
		return "", fmt.Errorf("the lab runs Kubernetes %s only, not %s", defaults.LabKubeVersion, p.version)
	}
	if err := p.parseArgs(args); err != nil {
		return "", err
	}
	if p.lab != nil {
		return "", fmt.Errorf("lab %s is already created by this provider", p.cfg.Name)
	}
	l, err := lab.Up(ctx, p.cfg)
	if err != nil {
		return "", err
	}
	p.lab = l
	return l.Kubeconfig(), nil
}

func (p *Provider) parseArgs(args []string) error {
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.IntVar(&p.cfg.Servers, "servers", p.cfg.Servers, "")
	fs.IntVar(&p.cfg.Agents, "agents", p.cfg.Agents, "")
	calico := fs.String("calico", string(p.cfg.Calico), "")
	noWorkloads := fs.Bool("no-workloads", !p.cfg.Workloads, "")
	noHosts := fs.Bool("no-hosts", !p.cfg.Hosts, "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("lab provider args: %w", err)
	}
	p.cfg.Calico, p.cfg.Workloads, p.cfg.Hosts = lab.Calico(*calico), !*noWorkloads, !*noHosts
	return nil
}

// fileConfig is CreateWithConfig's file: the lab.Config fields a suite may set.
type fileConfig struct {
	Servers   *int    `json:"servers"`
	Agents    *int    `json:"agents"`
	Calico    *string `json:"calico"`
	Workloads *bool   `json:"workloads"`
	Hosts     *bool   `json:"hosts"`
}

// CreateWithConfig reads a YAML file ({servers, agents, calico, workloads, hosts}) and creates the lab.
func (p *Provider) CreateWithConfig(ctx context.Context, configFile string) (string, error) {
	data, err := os.ReadFile(configFile)
	if err != nil {
		return "", fmt.Errorf("lab provider config: %w", err)
	}
	var fc fileConfig
	if err := yaml.UnmarshalStrict(data, &fc); err != nil {
		return "", fmt.Errorf("lab provider config %s: %w", configFile, err)
	}
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.cfg.Servers, fc.Servers)
	set(&p.cfg.Agents, fc.Agents)
	if fc.Calico != nil {
		p.cfg.Calico = lab.Calico(*fc.Calico)
	}
	if fc.Workloads != nil {
		p.cfg.Workloads = *fc.Workloads
	}
	if fc.Hosts != nil {
		p.cfg.Hosts = *fc.Hosts
	}
	return p.Create(ctx)
}

// Lab is the running lab (nil before Create).
func (p *Provider) Lab() *lab.Lab { return p.lab }

// GetKubeconfig is the lab's kubeconfig path.
func (p *Provider) GetKubeconfig() string {
	if p.lab == nil {
		return ""
	}
	return p.lab.Kubeconfig()
}

// GenerateKubeconfig returns the same file (the lab has one admin kubeconfig).
func (p *Provider) GenerateKubeconfig(...string) (string, error) {
	if p.lab == nil {
		return "", errors.New("lab not created")
	}
	return p.lab.Kubeconfig(), nil
}

// GetKubectlContext is the kubeconfig's context: "default", as in K3s' k3s.yaml.
func (p *Provider) GetKubectlContext() string { return "default" }

// ExportLogs copies the control plane's logs (and kwokctl's) to dest.
func (p *Provider) ExportLogs(_ context.Context, dest string) error {
	if p.lab == nil {
		return errors.New("lab not created")
	}
	return p.lab.ExportLogs(dest)
}

// Destroy removes the lab (idempotent).
func (p *Provider) Destroy(ctx context.Context) error {
	if p.lab == nil {
		return nil
	}
	return p.lab.Down(ctx)
}

// WaitForControlPlane checks the API server answers with the lab's nodes (Create already waited
// for nodes, Calico and workloads).
func (p *Provider) WaitForControlPlane(ctx context.Context, client klient.Client) error {
	if p.lab == nil {
		return errors.New("lab not created")
	}
	kube, err := kubernetes.NewForConfig(client.RESTConfig())
	if err != nil {
		return err
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("lab control plane: %w", err)
	}
	if len(nodes.Items) != len(p.lab.Nodes()) {
		return fmt.Errorf("lab control plane lists %d nodes, want %d", len(nodes.Items), len(p.lab.Nodes()))
	}
	return nil
}

// KubernetesRestConfig is the lab's admin REST config.
func (p *Provider) KubernetesRestConfig() *rest.Config {
	if p.lab == nil {
		return nil
	}
	return p.lab.RESTConfig()
}
