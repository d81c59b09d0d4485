// Command migration_state is the Ansible module that keeps a migration's progress in a ConfigMap.
package main

import (
	"context"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/state"
)

var spec = ansible.Spec{
	Name:              "migration_state",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"state":        {Type: ansible.TypeStr, Default: "get", Choices: []string{"get", "set", "absent"}},
		"phase":        {Type: ansible.TypeStr},
		"phase_status": {Type: ansible.TypeStr, Default: "completed", Choices: []string{"started", "completed"}},
		"strategy":     {Type: ansible.TypeStr, Choices: []string{"replace", "live"}},
		"data":         {Type: ansible.TypeDict},
		"node":         {Type: ansible.TypeStr},
		"namespace":    {Type: ansible.TypeStr, Default: defaults.MigrationStateNamespace},
		"name":         {Type: ansible.TypeStr, Default: defaults.MigrationStateConfigMap},
		"kubeconfig":   {Type: ansible.TypePath},
		"context":      {Type: ansible.TypeStr},
	},
}

type args struct {
	State       string         `json:"state"`
	Phase       string         `json:"phase"`
	PhaseStatus string         `json:"phase_status"`
	Strategy    string         `json:"strategy"`
	Data        map[string]any `json:"data"`
	Node        string         `json:"node"`
	Namespace   string         `json:"namespace"`
	Name        string         `json:"name"`
	Kubeconfig  string         `json:"kubeconfig"`
	Context     string         `json:"context"`
}

type values struct {
	state.View
	ConfigMap string   `json:"configmap"`
	Plan      []string `json:"plan"`
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	clients, err := k8s.New(a.Kubeconfig, a.Context)
	if err != nil {
		return nil, err
	}
	p := state.Parameters{State: a.State, Phase: a.Phase, PhaseStatus: a.PhaseStatus, Strategy: a.Strategy,
		Data: a.Data, Node: a.Node, Namespace: a.Namespace, Name: a.Name}
	out, err := state.Run(ctx, clients.Kube.CoreV1(), p, req.CheckMode)
	if err != nil {
		return nil, err
	}
	res := &ansible.Result{Changed: out.Changed(),
		Values: values{View: state.NewView(out.After), ConfigMap: p.Ref(), Plan: append([]string{}, out.Plan...)}}
	if out.Changed() {
		res.Diff = []ansible.Diff{{Before: state.Render(out.Before), After: state.Render(out.After),
			BeforeHeader: "ConfigMap " + p.Ref(), AfterHeader: "ConfigMap " + p.Ref()}}
	}
	return res, nil
}
