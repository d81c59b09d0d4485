// Command calico_policy_translate is the Ansible module that translates Calico's own network
// policies into Cilium policies, writes them to a file and optionally applies them, and reports
// every construct it cannot translate faithfully.
package main

import (
	"context"
	"fmt"

	"k8s.io/client-go/dynamic"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/policy"
)

var spec = ansible.Spec{
	Name:              "calico_policy_translate",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"source":        {Type: ansible.TypeStr, Default: policy.SourceCluster, Choices: []string{policy.SourceCluster, policy.SourceBackup}},
		"backup_dir":    {Type: ansible.TypePath},
		"dest":          {Type: ansible.TypePath},
		"apply":         {Type: ansible.TypeBool, Default: false},
		"allow_partial": {Type: ansible.TypeBool, Default: false},
		"namespaces":    {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"cluster_cidrs": {Type: ansible.TypeList, Elements: ansible.TypeStr, Default: defaults.PolicyClusterCIDRs()},
		"kubeconfig":    {Type: ansible.TypePath},
		"context":       {Type: ansible.TypeStr},
	},
}

type args struct {
	Source       string   `json:"source"`
	BackupDir    string   `json:"backup_dir"`
	Dest         string   `json:"dest"`
	Apply        bool     `json:"apply"`
	AllowPartial bool     `json:"allow_partial"`
	Namespaces   []string `json:"namespaces"`
	ClusterCIDRs []string `json:"cluster_cidrs"`
	Kubeconfig   string   `json:"kubeconfig"`
	Context      string   `json:"context"`
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	if a.Source == policy.SourceBackup && a.BackupDir == "" {
		return nil, fmt.Errorf("source is backup but all of the following are missing: backup_dir")
	}
	p := policy.Parameters{Source: a.Source, BackupDir: a.BackupDir, Dest: a.Dest, Apply: a.Apply,
		AllowPartial: a.AllowPartial, Namespaces: a.Namespaces, ClusterCIDRs: a.ClusterCIDRs}
	var dyn dynamic.Interface
	if p.NeedsCluster() {
		clients, err := k8s.New(a.Kubeconfig, a.Context)
		if err != nil {
			return nil, err
		}
		dyn = clients.Dynamic
	}
	plan, err := policy.NewPlan(ctx, p, dyn)
	if err != nil {
		return nil, err
	}
	res := &ansible.Result{Changed: plan.Changed(), Warnings: plan.Warnings}
	for _, d := range plan.Diffs() {
		res.Diff = append(res.Diff, ansible.Diff{Before: d.Before, After: d.After, BeforeHeader: d.BeforeHeader, AfterHeader: d.AfterHeader})
	}
	if err := plan.Refusal(); err != nil {
		res.Changed, res.Diff, res.Values = false, nil, plan.Values(nil)
		return res, err
	}
	applied := plan.PlannedChanges()
	if !req.CheckMode {
		applied, err = plan.Execute(ctx, dyn)
	}
	values := plan.Values(applied)
	res.Values, res.Msg = values, values.Summary.Message(req.CheckMode)
	return res, err
}
