package main

import (
	"context"
	"fmt"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/calico/node"
)

// runNode maps scope=node to the node package: options in, report and diff out.
func runNode(ctx context.Context, req *ansible.Request, a args) (*ansible.Result, error) {
	if a.BackupDir != "" || a.Restore || a.Force || a.StripFinalizers || a.Kubeconfig != "" || a.Context != "" {
		return nil, fmt.Errorf("kubeconfig, context, backup_dir, restore, force and strip_finalizers apply to scope=cluster only")
	}
	rep, err := node.Run(ctx, node.Params{
		ContainerdConfig: a.ContainerdConfig, ConfDirs: a.CNIConfDir, BinDirs: a.CNIBinDir, PoolCIDRs: a.PoolCIDRs,
		CNI: a.CNI, CheckMode: req.CheckMode,
	})
	if rep == nil {
		return nil, err
	}
	res := &ansible.Result{Changed: rep.Changed(), Values: rep, Warnings: rep.Warnings}
	who := map[string]string{node.CNICalico: "Calico", node.CNICilium: "Cilium"}[a.CNI]
	refused := rep.RoutesRefused()
	switch {
	case len(rep.Plan) == 0 && refused > 0:
		res.Msg = "nothing removed"
	case len(rep.Plan) == 0:
		res.Msg = fmt.Sprintf("no %s leftovers on this node", who)
	case req.CheckMode:
		res.Msg = fmt.Sprintf("would remove %d %s items", len(rep.Plan), who)
	case err == nil:
		res.Msg = fmt.Sprintf("removed %d %s items", len(rep.Removed), who)
	}
	if refused > 0 && err == nil {
		res.Msg += fmt.Sprintf("; %d routes with BIRD's or Felix's protocol left in place: no pool_cidrs given, "+
			"and a route is removed only inside Calico's pools", refused)
	}
	if rep.Changed() {
		res.Diff = []ansible.Diff{{Before: node.Render(rep.Plan), After: "", BeforeHeader: who + " items on this node",
			AfterHeader: "after calico_remove (scope=node)"}}
	}
	return res, err
}
