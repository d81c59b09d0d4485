// Command node_migrate is the Ansible module for the per-node steps of Cilium's live migration.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/nodemigrate"
)

var spec = ansible.Spec{
	Name:              "node_migrate",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"node":            {Type: ansible.TypeStr, Required: true},
		"state":           {Type: ansible.TypeStr, Required: true, Choices: []string{"cordoned", "drained", "labeled", "agent_restarted", "uncordoned"}},
		"timeout":         {Type: ansible.TypeInt, Default: int(defaults.NodeStepTimeout.Seconds())},
		"labels":          {Type: ansible.TypeDict, Default: map[string]any{defaults.CiliumMigrationLabel: "true"}},
		"bare_pods":       {Type: ansible.TypeStr, Default: "fail", Choices: []string{"fail", "skip", "evict"}},
		"agent_namespace": {Type: ansible.TypeStr, Default: defaults.CiliumNamespace},
		"agent_selector":  {Type: ansible.TypeStr, Default: defaults.CiliumAgentSelector},
		"kubeconfig":      {Type: ansible.TypePath},
		"context":         {Type: ansible.TypeStr},
	},
}

type args struct {
	Node           string         `json:"node"`
	State          string         `json:"state"`
	Timeout        int64          `json:"timeout"`
	Labels         map[string]any `json:"labels"`
	BarePods       string         `json:"bare_pods"`
	AgentNamespace string         `json:"agent_namespace"`
	AgentSelector  string         `json:"agent_selector"`
	Kubeconfig     string         `json:"kubeconfig"`
	Context        string         `json:"context"`
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	if a.Timeout < 1 {
		return nil, fmt.Errorf("timeout must be at least 1 second, got %d", a.Timeout)
	}
	clients, err := k8s.New(a.Kubeconfig, a.Context)
	if err != nil {
		return nil, err
	}
	p := nodemigrate.Parameters{Node: a.Node, State: a.State, Timeout: time.Duration(a.Timeout) * time.Second,
		Labels: stringify(a.Labels), BarePods: a.BarePods, AgentNamespace: a.AgentNamespace, AgentSelector: a.AgentSelector}
	out, err := nodemigrate.Run(ctx, clients.Kube, p, req.CheckMode)
	if out == nil {
		return nil, err
	}
	res := &ansible.Result{Changed: out.Changed(), Values: out}
	if out.Changed() {
		res.Diff = []ansible.Diff{{Before: out.Before, After: out.After,
			BeforeHeader: "node " + a.Node, AfterHeader: "node " + a.Node + " " + a.State}}
	}
	res.Warnings = out.Warnings
	return res, err
}

// stringify turns label values into strings, so that an unquoted YAML `true` still means "true".
func stringify(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}
