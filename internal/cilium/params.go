package cilium

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Mode selects the values preset.
type Mode string

// The modes of cilium_install.
const (
	// ModeFresh is a plain install on a cluster without another CNI.
	ModeFresh Mode = "fresh"
	// ModeMigration runs Cilium beside Calico (distinct CIDR and tunnel port, custom CNI conf).
	ModeMigration Mode = "migration"
	// ModeFinalize switches to the final values once every node runs Cilium.
	ModeFinalize Mode = "finalize"
)

// Desired release states.
const (
	StatePresent = "present"
	StateAbsent  = "absent"
)

// Parameters are the inputs of one cilium_install run. Zero values mean "default" where a
// default exists (see Normalize).
type Parameters struct {
	State        string
	ReleaseName  string
	Namespace    string
	ChartRef     string
	ChartRepoURL string
	ChartVersion string
	// Verify is when to check the chart's provenance (.prov) against Keyring: VerifyAuto,
	// VerifyAlways or VerifyNever ("" = VerifyAuto).
	Verify      string
	Keyring     string
	Values      map[string]any
	ValuesFiles []string
	Mode        Mode

	PodCIDR              string // "" = mode default
	TunnelPort           int    // 0 = mode default
	K8sServiceHost       string // "" = discovered
	K8sServicePort       int    // 0 = discovered
	KubeProxyReplacement bool
	Hubble               bool
	ServiceCIDR          string
	ClusterCIDR          string
	// CNIConfDir and CNIBinDir are where the nodes' container runtime reads CNI configs and plugins
	// (containerd's conf_dir and bin_dir: K3s' are not the chart's /etc/cni/net.d and /opt/cni/bin).
	// "" leaves the chart's default.
	CNIConfDir string
	CNIBinDir  string

	PatchCalicoAutodetect bool
	Wait                  bool
	Timeout               time.Duration
	RollbackOnFailure     bool

	Kubeconfig string
	Context    string

	CheckMode bool
	Diff      bool
}

// Normalize fills defaults and validates everything that needs no cluster. Errors name the
// option to fix.
func (p *Parameters) Normalize() error {
	setDefault(&p.State, StatePresent)
	setDefault(&p.ReleaseName, defaults.CiliumReleaseName)
	setDefault(&p.Namespace, defaults.CiliumNamespace)
	setDefault(&p.ChartRef, defaults.CiliumChartName)
	setDefault(&p.ChartRepoURL, defaults.CiliumChartRepoURL)
	setDefault(&p.ServiceCIDR, defaults.K3sServiceCIDR)
	setDefault(&p.ClusterCIDR, defaults.K3sClusterCIDR)
	setDefault(&p.Verify, VerifyAuto)
	if p.Mode == "" {
		p.Mode = ModeFresh
	}
	if p.Timeout <= 0 {
		p.Timeout = defaults.DefaultTimeout
	}
	if p.State != StatePresent && p.State != StateAbsent {
		return fmt.Errorf("state must be present or absent, got %q", p.State)
	}
	switch p.Mode {
	case ModeFresh, ModeMigration, ModeFinalize:
	default:
		return fmt.Errorf("mode must be one of fresh, migration, finalize, got %q", p.Mode)
	}
	if err := p.checkVerify(); err != nil {
		return err
	}
	if p.PodCIDR == "" {
		p.PodCIDR = p.defaultPodCIDR()
	}
	if p.TunnelPort == 0 && p.Mode != ModeFresh {
		p.TunnelPort = defaults.CiliumMigrationPort
	}
	for _, o := range [][2]string{{"pod_cidr", p.PodCIDR}, {"service_cidr", p.ServiceCIDR}, {"cluster_cidr", p.ClusterCIDR}} {
		if _, err := parseCIDR(o[1]); err != nil {
			return fmt.Errorf("%s: %w", o[0], err)
		}
	}
	for _, o := range [][2]string{{"cni_conf_dir", p.CNIConfDir}, {"cni_bin_dir", p.CNIBinDir}} {
		if o[1] != "" && !filepath.IsAbs(o[1]) {
			return fmt.Errorf("%s must be an absolute path on the nodes, got %q", o[0], o[1])
		}
	}
	if p.TunnelPort < 0 || p.TunnelPort > 65535 {
		return fmt.Errorf("tunnel_port must be between 1 and 65535, got %d", p.TunnelPort)
	}
	if p.K8sServicePort < 0 || p.K8sServicePort > 65535 {
		return fmt.Errorf("k8s_service_port must be between 1 and 65535, got %d", p.K8sServicePort)
	}
	return nil
}

// defaultPodCIDR: a fresh install takes K3s' cluster CIDR; a migration needs a new, disjoint one.
func (p *Parameters) defaultPodCIDR() string {
	if p.Mode == ModeFresh {
		return p.ClusterCIDR
	}
	return defaults.CiliumMigrationPodCIDR
}

func setDefault(s *string, def string) {
	if strings.TrimSpace(*s) == "" {
		*s = def
	}
}

// parseCIDR accepts a canonical or host-bits-set CIDR ("10.42.0.0/16") and returns its prefix.
func parseCIDR(s string) (netip.Prefix, error) {
	pfx, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR (like 10.245.0.0/16)", s)
	}
	return pfx.Masked(), nil
}
