package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/calico"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Params configures a node cleanup.
type Params struct {
	// ContainerdConfig is the containerd config.toml to read the CNI dirs from
	// (defaults.K3sContainerdTOML when empty).
	ContainerdConfig string
	// ConfDirs and BinDirs, when set, replace discovery: only these dirs are searched.
	ConfDirs []string
	BinDirs  []string
	// CheckMode computes the plan and removes nothing.
	CheckMode bool
}

// Report is what a cleanup found, planned and did.
type Report struct {
	ConfDirs     []string  `json:"cni_conf_dirs"`
	BinDirs      []string  `json:"cni_bin_dirs"`
	Backends     []string  `json:"iptables_backends"`
	MissingTools []string  `json:"missing_tools"`
	Plan         []Item    `json:"plan"`
	Removed      []Item    `json:"removed"`
	NotRemoved   []Failure `json:"not_removed"`
	Warnings     []string  `json:"-"`
}

// Changed reports whether the plan was not empty (in check mode: whether something would change).
func (r *Report) Changed() bool { return len(r.Plan) > 0 }

// Run cleans Calico off the host it runs on. It refuses to run without root. Everything is
// observed and planned before anything is removed; in check mode nothing is. A partial failure
// returns the report (what was removed, what was not) with an error.
func Run(ctx context.Context, p Params) (*Report, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("scope=node must run as root (use become: true): it changes links, routes and firewall rules")
	}
	return run(ctx, p, observer{netnsDir: "/run/netns", stateDirs: calico.StateDirs})
}

func run(ctx context.Context, p Params, o observer) (*Report, error) {
	if p.ContainerdConfig == "" {
		p.ContainerdConfig = defaults.K3sContainerdTOML
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
	plan, warnings := buildPlan(obs)
	rep.Plan, rep.Warnings = plan, append(rep.Warnings, warnings...)
	if p.CheckMode || len(plan) == 0 {
		return rep, nil
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("cancelled before removing anything: %w", err)
	}
	rep.Removed, rep.NotRemoved = apply(plan)
	if len(rep.NotRemoved) > 0 {
		var names []string
		for _, f := range rep.NotRemoved {
			names = append(names, fmt.Sprintf("%s: %s", f.Item, f.Error))
		}
		return rep, fmt.Errorf("removed %d of %d Calico items; not removed: %s",
			len(rep.Removed), len(plan), strings.Join(names, "; "))
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
