// Command calico_remove is the Ansible module that removes Calico: scope=cluster backs up and
// deletes Calico's objects through the API in an order that does not hang (or restores them from
// the backup); scope=node cleans one host's files, links, routes, firewall rules and ipsets — of
// Calico, or with cni=cilium of Cilium once a rollback has uninstalled it.
package main

import (
	"context"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/calico/node"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

var spec = ansible.Spec{
	Name: "calico_remove",
	Options: map[string]ansible.Option{
		"scope":             {Type: ansible.TypeStr, Required: true, Choices: []string{"cluster", "node"}},
		"cni":               {Type: ansible.TypeStr, Default: node.CNICalico, Choices: []string{node.CNICalico, node.CNICilium}},
		"kubeconfig":        {Type: ansible.TypePath},
		"context":           {Type: ansible.TypeStr},
		"backup_dir":        {Type: ansible.TypePath},
		"restore":           {Type: ansible.TypeBool, Default: false},
		"backup_only":       {Type: ansible.TypeBool, Default: false},
		"force":             {Type: ansible.TypeBool, Default: false},
		"strip_finalizers":  {Type: ansible.TypeBool, Default: false},
		"timeout":           {Type: ansible.TypeInt, Default: int64(defaults.DefaultTimeout.Seconds())},
		"cilium_namespace":  {Type: ansible.TypeStr, Default: defaults.CiliumNamespace},
		"cilium_daemonset":  {Type: ansible.TypeStr, Default: defaults.CiliumAgentDaemonSet},
		"containerd_config": {Type: ansible.TypePath, Default: defaults.K3sContainerdTOML},
		"cni_conf_dir":      {Type: ansible.TypeList, Elements: ansible.TypePath},
		"cni_bin_dir":       {Type: ansible.TypeList, Elements: ansible.TypePath},
		"pool_cidrs":        {Type: ansible.TypeList, Elements: ansible.TypeStr},
	},
	MutuallyExclusive: [][]string{{"restore", "backup_only"}},
	SupportsCheckMode: true,
}

// args are the module's options.
type args struct {
	Scope            string   `json:"scope"`
	CNI              string   `json:"cni"`
	Kubeconfig       string   `json:"kubeconfig"`
	Context          string   `json:"context"`
	BackupDir        string   `json:"backup_dir"`
	Restore          bool     `json:"restore"`
	BackupOnly       bool     `json:"backup_only"`
	Force            bool     `json:"force"`
	StripFinalizers  bool     `json:"strip_finalizers"`
	Timeout          int64    `json:"timeout"`
	CiliumNamespace  string   `json:"cilium_namespace"`
	CiliumDaemonSet  string   `json:"cilium_daemonset"`
	ContainerdConfig string   `json:"containerd_config"`
	CNIConfDir       []string `json:"cni_conf_dir"`
	CNIBinDir        []string `json:"cni_bin_dir"`
	PoolCIDRs        []string `json:"pool_cidrs"`
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	if a.Scope == "node" {
		return runNode(ctx, req, a)
	}
	return runCluster(ctx, req, a)
}
