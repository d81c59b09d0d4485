package nethost

import (
	"fmt"
	"net/netip"
	"path"
	"path/filepath"
	"regexp"
	"sort"
)

// Prefix starts the name of everything this package creates (netns, links, leases, temp dirs).
// An instance's own prefix is Prefix plus its subnet index, e.g. "cnm007".
const Prefix = "cnm"

// Pool is the range every host subnet is leased from: RFC 2544's benchmarking range, which no
// real network uses. Each harness instance gets one /24 of it.
var Pool = netip.MustParsePrefix("198.18.0.0/15")

// DefaultDirs are bind-mounted per host when Config.Dirs is nil: the places a K3s node keeps its
// CNI, Calico and containerd state.
var DefaultDirs = []string{
	"/etc/cni/net.d",
	"/opt/cni/bin",
	"/var/lib/calico",
	"/var/run/calico",
	"/var/log/calico",
	"/var/lib/rancher/k3s/agent/etc/containerd",
	"/etc/rancher/k3s",
	// cnimigrate's own state on a node (backups, connectivity results): per host, as on real nodes,
	// so that parallel labs never see each other's backups.
	"/var/lib/cnimigrate",
}

// maxHosts: .1 is the gateway, .255 the broadcast address, hosts take .2 onwards.
const maxHosts = 253

// Config describes the hosts to create.
type Config struct {
	// Names of the hosts, in order; each is a valid hostname label (also the host's hostname and
	// its name in the inventory). Host i gets the subnet's address .(i+2).
	Names []string
	// Groups maps an inventory group name to its hosts. Optional: every host is in "all" anyway.
	Groups map[string][]string
	// Dirs are absolute paths bind-mounted per host from Host.Root(). nil means DefaultDirs;
	// an empty non-nil slice mounts nothing.
	Dirs []string
	// WorkDir is where the harness temp dir is created; "" means os.TempDir().
	WorkDir string
	// Vars are inventory variables for all hosts; HostVars per host (by name). Optional.
	Vars     map[string]any
	HostVars map[string]map[string]any
}

var (
	hostnameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	groupRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// validate checks the config and returns it with defaults filled in.
func (c Config) validate() (Config, error) {
	if len(c.Names) == 0 {
		return c, fmt.Errorf("nethost: Config.Names is empty: name at least one host")
	}
	if len(c.Names) > maxHosts {
		return c, fmt.Errorf("nethost: %d hosts requested, at most %d fit in a /24", len(c.Names), maxHosts)
	}
	seen := map[string]bool{}
	for _, n := range c.Names {
		if !hostnameRE.MatchString(n) {
			return c, fmt.Errorf("nethost: host name %q is not a valid hostname label (lower-case letters, digits, '-')", n)
		}
		if seen[n] {
			return c, fmt.Errorf("nethost: host name %q appears twice", n)
		}
		seen[n] = true
	}
	for g, members := range c.Groups {
		if !groupRE.MatchString(g) || g == "all" || g == "ungrouped" {
			return c, fmt.Errorf("nethost: %q is not a usable inventory group name", g)
		}
		for _, m := range members {
			if !seen[m] {
				return c, fmt.Errorf("nethost: group %s names unknown host %q", g, m)
			}
		}
	}
	for h := range c.HostVars {
		if !seen[h] {
			return c, fmt.Errorf("nethost: HostVars names unknown host %q", h)
		}
	}
	if c.Dirs == nil {
		c.Dirs = DefaultDirs
	}
	dirs, err := cleanDirs(c.Dirs)
	if err != nil {
		return c, err
	}
	c.Dirs = dirs
	return c, nil
}

// cleanDirs checks the per-host directories and sorts them so that parents are mounted first.
func cleanDirs(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, d := range in {
		if !filepath.IsAbs(d) || path.Clean(d) == "/" {
			return nil, fmt.Errorf("nethost: per-host dir %q must be an absolute path other than /", d)
		}
		d = path.Clean(d)
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out, nil
}
