package main

import (
	"context"
	"fmt"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/calico/node"
	"github.com/cnimigrate/cnimigrate/modules/internal/nodecleanup"
)

// runNode maps scope=node to the node package: options in, report and diff out. The same as the
// lean node-side module cni_node_cleanup, which the roles use; kept for playbooks that call it.
func runNode(ctx context.Context, req *ansible.Request, a args) (*ansible.Result, error) {
	if a.BackupDir != "" || a.Restore || a.Force || a.StripFinalizers || a.Kubeconfig != "" || a.Context != "" {
		return nil, fmt.Errorf("kubeconfig, context, backup_dir, restore, force and strip_finalizers apply to scope=cluster only")
	}
	return nodecleanup.Run(ctx, req, node.Parameters{
		ContainerdConfig: a.ContainerdConfig, ConfDirs: a.CNIConfDir, BinDirs: a.CNIBinDir, PoolCIDRs: a.PoolCIDRs, CNI: a.CNI,
	}, "calico_remove (scope=node)")
}
