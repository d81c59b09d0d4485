package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Parameters configures a node cleanup.
type Parameters struct {
	// ContainerdConfig is the containerd config.toml to read the CNI dirs from
	// (defaults.K3sContainerdTOML when empty).
	ContainerdConfig string
	// ConfDirs and BinDirs, when set, replace discovery: only these dirs are searched.
	ConfDirs []string
	BinDirs  []string
	// PoolCIDRs are Calico's IP pool and IPAM block CIDRs. A route with BIRD's or Felix's protocol
	// is removed only when its destination lies inside one of them; without them no route is.
	PoolCIDRs []string
	// CNI is whose leftovers are removed: CNICalico (empty means it) or CNICilium. Cilium's
	// cleanup takes no pool CIDRs: its routes leave with its devices.
	CNI string
	// CheckMode computes the plan and removes nothing.
	CheckMode bool
}

// Report is what a cleanup found, planned and did.
type Report struct {
	ConfDirs     []string    `json:"cni_conf_dirs"`
	BinDirs      []string    `json:"cni_bin_dirs"`
	Backends     []string    `json:"iptables_backends"`
	MissingTools []string    `json:"missing_tools"`
	Plan         []Item      `json:"plan"`
	Removed      []Item      `json:"removed"`
	NotRemoved   []Failure   `json:"not_removed"`
	KeptRoutes   []KeptRoute `json:"routes_kept"`
	Warnings     []string    `json:"-"`

	applied bool
}

// Changed reports whether something was removed; in check mode (nothing applied), whether the plan
// was not empty. A run whose every removal failed changed nothing.
func (r *Report) Changed() bool {
	if r.applied {
		return len(r.Removed) > 0
	}
	return len(r.Plan) > 0
}

// RoutesRefused counts the routes kept because no pool CIDRs were given.
func (r *Report) RoutesRefused() int {
	n := 0
	for _, k := range r.KeptRoutes {
		if k.Reason == keptNoPools {
			n++
		}
	}
	return n
}

// Run cleans Calico off the host it runs on. It refuses to run without root. Everything is
// observed and planned before anything is removed; in check mode nothing is. A partial failure
// returns the report (what was removed, what was not) with an error.
func Run(ctx context.Context, p Parameters) (*Report, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("scope=node must run as root (use become: true): it changes links, routes and firewall rules")
	}
	own, err := ownerOf(p.CNI)
	if err != nil {
		return nil, err
	}
	return run(ctx, p, observer{netnsDir: "/run/netns", owner: own})
}

func run(ctx context.Context, p Parameters, o observer) (*Report, error) {
	if p.ContainerdConfig == "" {
		p.ContainerdConfig = defaults.K3sContainerdTOML
	}
	if len(p.PoolCIDRs) > 0 && !o.owner.PoolRoutes {
		return nil, fmt.Errorf("pool_cidrs apply to cni=%s only: %s's routes leave with its devices", CNICalico, o.owner.Display)
	}
	pools, err := ParsePools(p.PoolCIDRs)
	if err != nil {
		return nil, err
	}
	dirs, err := discoverDirs(p.ContainerdConfig, p.ConfDirs, p.BinDirs)
	if err != nil {
		return nil, fmt.Errorf("discover CNI dirs: %w", err)
	}
	obs, err := o.observe(dirs)
	if err != nil {
		return nil, fmt.Errorf("inspect node (nothing was removed): %w", err)
	}
	rep := &Report{ConfDirs: dirs.Conf, BinDirs: dirs.Bin, MissingTools: obs.Missing, Warnings: obs.Warnings}
	for _, b := range obs.Backends {
		rep.Backends = append(rep.Backends, b.Name)
	}
	plan, kept, warnings := buildPlan(obs, pools, o.owner)
	rep.Plan, rep.KeptRoutes, rep.Warnings = plan, kept, append(rep.Warnings, warnings...)
	if p.CheckMode || len(plan) == 0 {
		return rep, nil
	}
	rep.applied = true // from here on, changed means something was removed
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("cancelled before removing anything: %w", err)
	}
	rep.Removed, rep.NotRemoved = apply(plan, obs.Backends)
	if len(rep.NotRemoved) > 0 {
		var names []string
		for _, f := range rep.NotRemoved {
			names = append(names, fmt.Sprintf("%s: %s", f.Item, f.Error))
		}
		return rep, fmt.Errorf("removed %d of %d %s items; not removed: %s",
			len(rep.Removed), len(plan), o.owner.Display, strings.Join(names, "; "))
	}
	return rep, nil
}

// Render shows a plan as the "before" text of a diff: one line per item.
func Render(items []Item) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.String())
		b.WriteByte('\n')
	}
	return b.String()
}
