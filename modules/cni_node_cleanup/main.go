// Command cni_node_cleanup is the node-side Ansible module that removes what a CNI leaves on a
// host once it no longer runs there: Calico's (cni=calico, after the migration) or Cilium's
// (cni=cilium, after a rollback) files, links, routes, firewall rules, ipsets and BPF pins. It
// runs on every node, so it carries no Kubernetes client and no Helm: Ansible copies it to each
// node for each task, and a small binary is a fast task.
package main

import (
	"context"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/calico/node"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/modules/internal/nodecleanup"
)

var spec = ansible.Spec{
	Name: "cni_node_cleanup",
	Options: map[string]ansible.Option{
		"cni":               {Type: ansible.TypeStr, Default: node.CNICalico, Choices: []string{node.CNICalico, node.CNICilium}},
		"containerd_config": {Type: ansible.TypePath, Default: defaults.K3sContainerdTOML},
		"cni_conf_dir":      {Type: ansible.TypeList, Elements: ansible.TypePath},
		"cni_bin_dir":       {Type: ansible.TypeList, Elements: ansible.TypePath},
		"pool_cidrs":        {Type: ansible.TypeList, Elements: ansible.TypeStr},
	},
	SupportsCheckMode: true,
}

// args are the module's options.
type args struct {
	CNI              string   `json:"cni"`
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
	return nodecleanup.Run(ctx, req, node.Parameters{
		ContainerdConfig: a.ContainerdConfig, ConfDirs: a.CNIConfDir, BinDirs: a.CNIBinDir, PoolCIDRs: a.PoolCIDRs, CNI: a.CNI,
	}, "cni_node_cleanup")
}
