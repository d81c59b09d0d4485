// Command k3s_config_info is the Ansible module that reports the K3s flags a CNI migration depends
// on (flannel-backend, disable-network-policy, cluster-cidr, disable-kube-proxy) as K3s assembles
// them from its config file, its drop-ins and its service's command line, and nothing else of
// those files: they hold the cluster's join tokens.
package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k3sconfig"
)

var spec = ansible.Spec{
	Name:              "k3s_config_info",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"config_file": {Type: ansible.TypePath, Default: defaults.K3sConfigFile},
		"unit_files":  {Type: ansible.TypeList, Elements: ansible.TypePath, Default: []string{defaults.K3sServerUnit, defaults.K3sAgentUnit}},
	},
}

type args struct {
	ConfigFile string   `json:"config_file"`
	UnitFiles  []string `json:"unit_files"`
}

func main() { ansible.Main(spec, handle) }

func handle(_ context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	rep, err := k3sconfig.Read(k3sconfig.Parameters{ConfigFile: a.ConfigFile, UnitFiles: a.UnitFiles})
	if rep == nil {
		return nil, err
	}
	// Tokens and the datastore's password met on the way never come back, even in an error.
	req.AddNoLogValues(rep.Secrets...)
	res := &ansible.Result{Warnings: rep.Warnings, Values: rep}
	if err == nil {
		res.Msg = summary(rep)
	}
	return res, err
}

// summary is one line for -v output: each flag's value, marked when it is K3s' default.
func summary(rep *k3sconfig.Report) string {
	var parts []string
	for _, name := range []string{k3sconfig.FlannelBackend, k3sconfig.DisableNetworkPolicy, k3sconfig.ClusterCIDR, k3sconfig.DisableKubeProxy} {
		f := rep.Flags[name]
		v := fmt.Sprint(f.Value)
		if list, ok := f.Value.([]string); ok {
			v = strings.Join(list, ",")
		}
		if !f.Set {
			v += " (unset: K3s' default)"
		}
		parts = append(parts, name+" "+v)
	}
	return strings.Join(parts, "; ")
}
