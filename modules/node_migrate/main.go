// Command node_migrate is the Ansible module for the per-node steps of Cilium's live migration.
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/nodemigrate"
	"github.com/cnimigrate/cnimigrate/internal/state"
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
		"state_configmap": {Type: ansible.TypeStr, Default: defaults.MigrationStateConfigMap},
		"state_namespace": {Type: ansible.TypeStr, Default: defaults.MigrationStateNamespace},
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
	StateConfigMap string         `json:"state_configmap"`
	StateNamespace string         `json:"state_namespace"`
	Kubeconfig     string         `json:"kubeconfig"`
	Context        string         `json:"context"`
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	clients, err := k8s.New(a.Kubeconfig, a.Context)
	if err != nil {
		return nil, err
	}
	p := nodemigrate.Parameters{Node: a.Node, State: a.State, Timeout: time.Duration(a.Timeout) * time.Second,
		Labels: stringify(a.Labels), BarePods: a.BarePods, AgentNamespace: a.AgentNamespace, AgentSelector: a.AgentSelector}
	if a.StateConfigMap != "" {
		p.Cordons = state.Cordons{ConfigMaps: clients.Kube.CoreV1(), Namespace: a.StateNamespace, Name: a.StateConfigMap}
	}
	p.CheckMode = req.CheckMode
	out, err := nodemigrate.Run(ctx, clients.Kube, p)
	if out == nil {
		return nil, err
	}
	res := &ansible.Result{Changed: out.Changed(), Msg: out.Note, Values: out}
	if out.Changed() {
		res.Diff = []ansible.Diff{{Before: out.Before, After: out.After,
			BeforeHeader: "node " + a.Node, AfterHeader: "node " + a.Node + " " + a.State}}
	}
	res.Warnings = out.Warnings
	return res, err
}

func (a args) validate() error {
	if a.Timeout < 1 {
		return fmt.Errorf("timeout must be at least 1 second, got %d", a.Timeout)
	}
	if a.StateConfigMap != "" {
		if errs := validation.IsDNS1123Subdomain(a.StateConfigMap); len(errs) > 0 {
			return fmt.Errorf("state_configmap %q is not a ConfigMap name: %s", a.StateConfigMap, strings.Join(errs, "; "))
		}
		if errs := validation.IsDNS1123Label(a.StateNamespace); len(errs) > 0 {
			return fmt.Errorf("state_namespace %q is not a namespace name: %s", a.StateNamespace, strings.Join(errs, "; "))
		}
	}
	return nil
}

// stringify turns label values into strings, so that an unquoted YAML `true` still means "true".
func stringify(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}
