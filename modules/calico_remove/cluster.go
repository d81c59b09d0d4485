package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/calico/cluster"
	"github.com/cnimigrate/cnimigrate/internal/calico/node"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
)

// runCluster maps scope=cluster to the cluster package: remove (default) or restore.
func runCluster(ctx context.Context, req *ansible.Request, a args) (*ansible.Result, error) {
	if a.CNI != node.CNICalico {
		return nil, fmt.Errorf("cni=%s applies to scope=node only: the cluster scope removes and restores Calico", a.CNI)
	}
	if len(a.CNIConfDir) > 0 || len(a.CNIBinDir) > 0 || len(a.PoolCIDRs) > 0 {
		return nil, fmt.Errorf("cni_conf_dir, cni_bin_dir and pool_cidrs apply to scope=node only")
	}
	if a.BackupDir == "" {
		return nil, fmt.Errorf("backup_dir is required with scope=cluster: Calico is never removed without a backup, and restore reads it")
	}
	if a.Timeout <= 0 {
		return nil, fmt.Errorf("timeout must be a positive number of seconds, got %d", a.Timeout)
	}
	clients, err := k8s.New(a.Kubeconfig, a.Context)
	if err != nil {
		return nil, err
	}
	p := cluster.Parameters{BackupDir: a.BackupDir, Force: a.Force, StripFinalizers: a.StripFinalizers,
		Timeout: time.Duration(a.Timeout) * time.Second, CiliumNamespace: a.CiliumNamespace,
		CiliumDaemonSet: a.CiliumDaemonSet, CheckMode: req.CheckMode, BackupOnly: a.BackupOnly}
	c := cluster.Clients{Kube: clients.Kube, Dynamic: clients.Dynamic}
	if a.Restore {
		rep, err := cluster.Restore(ctx, c, p)
		if rep == nil {
			return nil, err
		}
		res := result(rep.Changed(), rep.Plan, rep, rep.Warnings, "")
		if rep.Changed() { // a restore adds: the plan is the "after" side
			res.Diff = []ansible.Diff{{Before: "", After: cluster.RenderPlan(rep.Plan), BeforeHeader: "cluster",
				AfterHeader: "restored from " + a.BackupDir}}
		}
		res.Msg = summary(rep.Changed(), req.CheckMode, len(rep.Plan), "restore", "nothing to restore: every backed-up object exists")
		return res, err
	}
	rep, err := cluster.Remove(ctx, c, p)
	if rep == nil {
		return nil, err
	}
	res := result(rep.Changed(), rep.Plan, rep, rep.Warnings, "after calico_remove (scope=cluster)")
	res.Msg = summary(rep.Changed(), req.CheckMode, len(rep.Plan), "remove", "Calico is not installed")
	if a.BackupOnly {
		res.Diff = nil
		res.Msg = backupSummary(rep, req.CheckMode, a.BackupDir)
	}
	return res, err
}

func result(changed bool, plan []cluster.Entry, values any, warnings []string, after string) *ansible.Result {
	res := &ansible.Result{Changed: changed, Values: values, Warnings: warnings}
	if changed {
		res.Diff = []ansible.Diff{{Before: cluster.RenderPlan(plan), After: "", BeforeHeader: "plan", AfterHeader: after}}
	}
	return res
}

func summary(changed, check bool, n int, verb, none string) string {
	switch {
	case !changed:
		return none
	case check:
		return fmt.Sprintf("would %s: %d planned entries", verb, n)
	}
	return fmt.Sprintf("%s: %d planned entries done", verb, n)
}

func backupSummary(rep *cluster.Report, check bool, dir string) string {
	switch {
	case rep.Backup == nil && !rep.BackupWritten:
		return "Calico is not installed: nothing to back up"
	case !rep.BackupWritten:
		return "backup in " + dir + " is up to date (verified): nothing written"
	case check:
		return "would write and verify a backup of Calico's objects in " + dir
	}
	return "wrote and verified a backup of Calico's objects in " + dir
}
