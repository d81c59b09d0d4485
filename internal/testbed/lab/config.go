package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Calico selects how Calico is installed in the lab.
type Calico string

// The Calico flavours.
const (
	CalicoManifest Calico = "manifest" // calico.yaml in kube-system
	CalicoOperator Calico = "operator" // tigera-operator + Installation/APIServer, calico-system
	CalicoNone     Calico = "none"     // no Calico at all (nodes still get their pod CIDRs)
)

// Config describes a lab. Start from Defaults(): the zero Config has no nodes and is rejected.
type Config struct {
	// Name names the lab (its kwokctl cluster, its node hosts, its default work dir). Lower-case
	// letters, digits and '-', at most 20 characters. Default "cnimigrate".
	Name string
	// Servers and Agents count the K3s server (control-plane) and agent nodes. At least one server;
	// at most defaults.LabMaxNodes nodes in all.
	Servers, Agents int
	// Calico is the flavour installed; "" means CalicoManifest.
	Calico Calico
	// Workloads deploys the ML-platform workloads (namespaces, Deployments, policies, ...).
	Workloads bool
	// Hosts starts one SSH node host (network namespace + sshd) per node; the API server then also
	// listens where the node hosts reach it (the node-host bridge's gateway address).
	Hosts bool
	// ToolsDir holds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, kwok and
	// kwokctl; "" means the hack/tools.sh cache (DefaultToolsDir).
	ToolsDir string
	// WorkDir holds the lab's state, kubeconfig, inventory, keys and kwokctl's files; it must not
	// exist yet. "" means DefaultWorkDir(Name). Down removes it.
	WorkDir string
	// APIServerPort is the kube-apiserver's port; 0 picks a free one.
	APIServerPort int
	// ReadyTimeout bounds each wait of Up (control plane, nodes, Calico, workloads); 0 means
	// defaults.LabReadyTimeout.
	ReadyTimeout time.Duration
	// OperatorIdle (operator flavour) keeps the lab from playing the tigera-operator's part in
	// Calico's removal: the Installation's cleanup finalizer then holds it, as when the operator is
	// not running. By default the lab process releases it once the Installation is being deleted.
	OperatorIdle bool
	// NoCiliumCRDs leaves Cilium's CRDs out: a cluster where cilium-operator never ran (tests of
	// what cilium_install does without them). By default the lab registers them (see Up).
	NoCiliumCRDs bool
	// ExtraPods adds a "load" namespace with Deployments of that many pods in all (benchmarks).
	ExtraPods int
	// UnlimitedQPS lifts the client rate limits of kube-controller-manager and kube-scheduler and
	// the API server's in-flight limits (kwokctl's disableQPSLimits). Off by default: users' clusters
	// run with the limits.
	UnlimitedQPS bool
	// PodStartDelay gives pods a realistic start-up: with a value above zero kwok runs its "general"
	// pod stages (create, then ready, then delete, each after a delay) instead of kwokctl's default
	// "fast" ones (pods Ready at once), and a pod becomes Ready about PodStartDelay after it is
	// scheduled (its create and ready steps each take between a quarter and three quarters of it,
	// uniformly at random). Deleted pods go after 1 s, or sooner if their grace period ends sooner.
	// 0 keeps the fast stages. Benchmarks use it so rollouts take time the way they do on real nodes.
	PodStartDelay time.Duration
	// Keeper says the calling process stays alive to own the lab (the node hosts die with it) until
	// it is signalled: DownDir from another process then sends it SIGTERM and waits.
	Keeper bool
	// Progress receives one line per step ("lab: ..."); nil discards them.
	Progress io.Writer
}

// Defaults returns the default lab: 1 server, 2 agents, Calico from calico.yaml, workloads and
// node hosts.
func Defaults() Config {
	return Config{
		Name:      "cnimigrate",
		Servers:   defaults.LabDefaultServers,
		Agents:    defaults.LabDefaultAgents,
		Calico:    CalicoManifest,
		Workloads: true,
		Hosts:     true,
	}
}

// maxExtraPods bounds Config.ExtraPods (kwok handles ~20 pods/s at default client limits).
const maxExtraPods = 20000

// maxPodStartDelay bounds Config.PodStartDelay.
const maxPodStartDelay = 10 * time.Minute

var validName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$`)

// Validate reports what is wrong with the config (after filling in the defaults of empty
// fields), and whether a lab already uses its work dir, without creating anything.
func (c Config) Validate() error {
	c, err := c.complete()
	if err != nil {
		return err
	}
	if _, err := os.Stat(c.WorkDir); err == nil {
		return existsError(c.WorkDir, c.Name)
	}
	return nil
}

// complete fills in defaults for the empty string fields and validates the rest.
func (c Config) complete() (Config, error) {
	if c.Name == "" {
		c.Name = Defaults().Name
	}
	if c.Calico == "" {
		c.Calico = CalicoManifest
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = defaults.LabReadyTimeout
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	if c.ToolsDir == "" {
		c.ToolsDir = DefaultToolsDir()
	}
	if c.WorkDir == "" {
		c.WorkDir = DefaultWorkDir(c.Name)
	}
	abs, err := filepath.Abs(c.WorkDir)
	if err != nil {
		return c, fmt.Errorf("work dir %s: %w", c.WorkDir, err)
	}
	c.WorkDir = abs
	return c, nil
}

func (c Config) validate() error {
	var errs []error
	if !validName.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name %q: use 1-20 lower-case letters, digits and '-' (it names processes, network namespaces and links)", c.Name))
	}
	switch {
	case c.Servers < 0 || c.Agents < 0:
		errs = append(errs, fmt.Errorf("node counts must not be negative (servers %d, agents %d)", c.Servers, c.Agents))
	case c.Servers+c.Agents == 0:
		errs = append(errs, errors.New("no nodes: a lab needs at least one server (start from lab.Defaults(): 1 server, 2 agents)"))
	case c.Servers == 0:
		errs = append(errs, fmt.Errorf("%d agents but no server: a K3s cluster needs at least one server", c.Agents))
	case c.Servers+c.Agents > defaults.LabMaxNodes:
		errs = append(errs, fmt.Errorf("%d nodes is more than the lab supports (%d: one 10.42.<i>.0/24 pod CIDR and one node-host address each)", c.Servers+c.Agents, defaults.LabMaxNodes))
	}
	switch c.Calico {
	case CalicoManifest, CalicoOperator, CalicoNone:
	default:
		errs = append(errs, fmt.Errorf("calico %q: want %q, %q or %q", c.Calico, CalicoManifest, CalicoOperator, CalicoNone))
	}
	if c.ExtraPods < 0 || c.ExtraPods > maxExtraPods {
		errs = append(errs, fmt.Errorf("extra pods %d: want 0..%d", c.ExtraPods, maxExtraPods))
	}
	if c.PodStartDelay < 0 || c.PodStartDelay > maxPodStartDelay {
		errs = append(errs, fmt.Errorf("pod start delay %s: want 0..%s", c.PodStartDelay, maxPodStartDelay))
	}
	if c.APIServerPort < 0 || c.APIServerPort > 65535 {
		errs = append(errs, fmt.Errorf("API server port %d is not a TCP port", c.APIServerPort))
	}
	return errors.Join(errs...)
}

// StateRoot is where labs keep their work dirs by default:
// ${XDG_STATE_HOME:-$HOME/.local/state}/cnimigrate/lab.
func StateRoot() string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "cnimigrate", "lab")
}

// DefaultWorkDir is the work dir of the lab called name: StateRoot()/name.
func DefaultWorkDir(name string) string {
	return filepath.Join(StateRoot(), name)
}

// DefaultToolsDir is where hack/tools.sh puts the binaries:
// ${CNIMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnimigrate}/tools/k8s-V-etcd-V-kwok-V/bin.
func DefaultToolsDir() string {
	cache := os.Getenv("CNIMIGRATE_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "cnimigrate")
	}
	return filepath.Join(cache, "tools", fmt.Sprintf("k8s-%s-etcd-%s-kwok-%s",
		defaults.LabKubeVersion, defaults.LabEtcdVersion, defaults.LabKwokVersion), "bin")
}
