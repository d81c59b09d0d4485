package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/cnimigrate/cnimigrate/internal/calico"
)

// Observed is what a host holds that a plan is computed from. It includes foreign objects
// (Cilium's links and chains, K3s' rules): filtering them out is the plan's job.
type Observed struct {
	Dirs      CNIDirs
	Paths     []Path // candidate Calico paths that exist
	Links     []Link
	Routes    []Route
	Dumps     []*dump
	NFTTables []NFTTable
	IPSets    []string
	Netns     []string // paths under the netns dir
	Backends  []*backend
	Missing   []string // tools looked for and not found
	Warnings  []string
}

// Link is a network device.
type Link struct {
	Name     string
	Type     string
	Up       bool
	HasAddrs bool
}

// Path is a file or directory. A directory that is a mount point is emptied, not removed.
type Path struct {
	Path       string
	Dir        bool
	MountPoint bool
}

// Route is a route with its device name resolved.
type Route struct {
	R   netlink.Route
	Dev string
}

// NFTTable is an nftables table.
type NFTTable struct{ Family, Name string }

// observer reads a host. Its fields are the places it looks (tests point them elsewhere).
type observer struct {
	netnsDir string
	owner    owner
}

func (o observer) observe(dirs CNIDirs) (*Observed, error) {
	obs := &Observed{Dirs: dirs}
	mounts, err := mountPoints()
	if err != nil {
		return nil, err
	}
	obs.Paths = existingPaths(dirs, o.owner, mounts)
	if obs.Backends, obs.Missing, err = findBackends(); err != nil {
		return nil, err
	}
	if !hasIPv4(obs.Backends) {
		return nil, fmt.Errorf("no iptables binary found (looked for iptables-nft, iptables-legacy and iptables "+
			"in $PATH and %s): cannot check for Calico's rules; install iptables", strings.Join(sbinDirs, ", "))
	}
	steps := []func(*Observed) error{observeLinks, observeIPTables, observeNFT, observeIPSets}
	if o.owner.PoolRoutes {
		steps = append(steps, observeRoutes)
	}
	for _, step := range steps {
		if err := step(obs); err != nil {
			return nil, err
		}
	}
	if obs.Netns, err = ownNetns(o.netnsDir, o.owner.Netns); err != nil {
		return nil, err
	}
	return obs, nil
}

func hasIPv4(bs []*backend) bool {
	for _, b := range bs {
		if !b.IPv6 {
			return true
		}
	}
	return false
}

func existingPaths(dirs CNIDirs, own owner, mounts map[string]bool) []Path {
	var candidates []string
	for _, d := range dirs.Conf {
		for _, f := range own.ConfFiles {
			candidates = append(candidates, filepath.Join(d, f))
		}
	}
	for _, d := range dirs.Bin {
		for _, f := range own.BinFiles {
			candidates = append(candidates, filepath.Join(d, f))
		}
	}
	candidates = append(candidates, own.StateDirs...)
	for _, g := range own.PinGlobs {
		matches, _ := filepath.Glob(g) // the patterns are constants: ErrBadPattern cannot happen
		candidates = append(candidates, matches...)
	}
	var out []Path
	for _, p := range uniq(candidates) {
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		mp := st.IsDir() && (mounts[p] || mounts[resolved(p)])
		if mp && isEmptyDir(p) {
			continue // an empty mount point is as clean as it gets
		}
		out = append(out, Path{Path: p, Dir: st.IsDir(), MountPoint: mp})
	}
	return out
}

// resolved is p with symlinks in its parents resolved (/var/run is usually a link to /run, and
// mountinfo names the real path).
func resolved(p string) string {
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return p
	}
	return filepath.Join(dir, filepath.Base(p))
}

func observeLinks(obs *Observed) error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		a := l.Attrs()
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return fmt.Errorf("list addresses of %s: %w", a.Name, err)
		}
		obs.Links = append(obs.Links, Link{Name: a.Name, Type: l.Type(), Up: a.Flags&unix.IFF_UP != 0, HasAddrs: len(addrs) > 0})
	}
	return nil
}

func observeRoutes(obs *Observed) error {
	names := map[int]string{}
	if links, err := netlink.LinkList(); err == nil {
		for _, l := range links {
			names[l.Attrs().Index] = l.Attrs().Name
		}
	}
	for _, proto := range []netlink.RouteProtocol{calico.RouteProtoBird, calico.RouteProtoFelix} {
		filter := &netlink.Route{Table: unix.RT_TABLE_UNSPEC, Protocol: proto}
		routes, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
		if err != nil {
			return fmt.Errorf("list routes with protocol %d: %w", proto, err)
		}
		for _, r := range routes {
			obs.Routes = append(obs.Routes, Route{R: r, Dev: names[r.LinkIndex]})
		}
	}
	return nil
}

func observeIPTables(obs *Observed) error {
	for _, b := range obs.Backends {
		tables, err := b.tables()
		if err != nil {
			return err
		}
		for _, t := range tables {
			d, err := b.dump(t)
			if err != nil {
				return err
			}
			if d != nil {
				obs.Dumps = append(obs.Dumps, d)
			}
		}
	}
	return nil
}

// observeNFT lists nftables tables with the nft tool. Without it Calico's nftables-mode tables
// cannot be seen: that is reported, not fatal (iptables-mode Calico, the default, creates none).
func observeNFT(obs *Observed) error {
	path, ok := lookPath("nft")
	if !ok {
		obs.Missing = append(obs.Missing, "nft")
		obs.Warnings = append(obs.Warnings, "nft not found: nftables tables 'ip calico' and 'ip6 calico' were not checked")
		return nil
	}
	out, err := exec.Command(path, "list", "tables").CombinedOutput()
	if err != nil {
		return fmt.Errorf("nft list tables: %w: %s", err, strings.TrimSpace(string(out)))
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "table" {
			obs.NFTTables = append(obs.NFTTables, NFTTable{Family: f[1], Name: f[2]})
		}
	}
	return nil
}

func observeIPSets(obs *Observed) error {
	sets, err := netlink.IpsetListAll()
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.ENOENT) {
			return nil // no ip_set module: there can be no ipsets
		}
		return fmt.Errorf("list ipsets: %w", err)
	}
	for _, s := range sets {
		obs.IPSets = append(obs.IPSets, s.SetName)
	}
	return nil
}

// ownNetns lists the named network namespaces the owner's filter picks (none without a filter).
func ownNetns(dir string, isOwn func(string) bool) ([]string, error) {
	if isOwn == nil {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if isOwn(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}
