// Command migration_state is the Ansible module that keeps a migration's progress in a ConfigMap.
package main

import (
	"context"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/state"
)

var spec = ansible.Spec{
	Name:              "migration_state",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"state": {Type: ansible.TypeStr, Default: "get",
			Choices: []string{"get", "set", "absent", state.StateLocked, state.StateUnlocked}},
		"phase":         {Type: ansible.TypeStr},
		"phase_status":  {Type: ansible.TypeStr, Default: "completed", Choices: []string{"started", "completed"}},
		"strategy":      {Type: ansible.TypeStr, Choices: []string{"replace", "live"}},
		"data":          {Type: ansible.TypeDict},
		"node":          {Type: ansible.TypeStr},
		"namespace":     {Type: ansible.TypeStr, Default: defaults.MigrationStateNamespace},
		"name":          {Type: ansible.TypeStr, Default: defaults.MigrationStateConfigMap},
		"kubeconfig":    {Type: ansible.TypePath},
		"context":       {Type: ansible.TypeStr},
		"lock_holder":   {Type: ansible.TypeStr},
		"lock_name":     {Type: ansible.TypeStr, Default: defaults.MigrationLock},
		"lock_duration": {Type: ansible.TypeInt, Default: int(defaults.MigrationLockDuration / time.Second)},
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
	LockHolder  string         `json:"lock_holder"`
	LockName    string         `json:"lock_name"`
	LockSeconds int            `json:"lock_duration"`
}

type values struct {
	state.View
	ConfigMap string          `json:"configmap"`
	Plan      []string        `json:"plan"`
	Lock      *state.LockView `json:"lock"`
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	p := state.Parameters{State: a.State, Phase: a.Phase, PhaseStatus: a.PhaseStatus, Strategy: a.Strategy,
		Data: a.Data, Node: a.Node, Namespace: a.Namespace, Name: a.Name}
	if err := p.CheckLock(a.LockHolder); err != nil {
		return nil, err
	}
	clients, err := k8s.New(a.Kubeconfig, a.Context)
	if err != nil {
		return nil, err
	}
	res := &ansible.Result{}
	var lock *state.LockOutcome
	if a.LockHolder != "" {
		l := state.Lock{Leases: clients.Kube.CoordinationV1(), Namespace: a.Namespace, Name: a.LockName,
			Holder: a.LockHolder, Duration: time.Duration(a.LockSeconds) * time.Second}
		if a.State == state.StateUnlocked {
			lock, err = l.Release(ctx, req.CheckMode)
		} else {
			lock, err = l.Acquire(ctx, req.CheckMode)
		}
		if err != nil {
			return nil, err
		}
		res.Warnings = lock.Warnings
	}
	var out *state.Outcome
	if a.State == state.StateLocked || a.State == state.StateUnlocked {
		out, err = state.Run(ctx, clients.Kube.CoreV1(), state.Parameters{Namespace: a.Namespace, Name: a.Name, CheckMode: true})
	} else {
		p.CheckMode = req.CheckMode
		out, err = state.Run(ctx, clients.Kube.CoreV1(), p)
	}
	if err != nil {
		return nil, err
	}
	v := values{View: state.NewView(out.After), ConfigMap: p.Ref(), Plan: append([]string{}, out.Plan...)}
	if lock != nil {
		v.Plan, v.Lock = append(append([]string{}, lock.Plan...), v.Plan...), lock.After
	}
	res.Changed, res.Values = len(v.Plan) > 0, v
	if out.Changed() {
		res.Diff = append(res.Diff, ansible.Diff{Before: state.Render(out.Before), After: state.Render(out.After),
			BeforeHeader: "ConfigMap " + p.Ref(), AfterHeader: "ConfigMap " + p.Ref()})
	}
	if lock != nil && lock.Changed() {
		ref := a.Namespace + "/" + a.LockName
		res.Diff = append(res.Diff, ansible.Diff{Before: state.RenderLock(lock.Before), After: state.RenderLock(lock.After),
			BeforeHeader: "Lease " + ref, AfterHeader: "Lease " + ref})
	}
	return res, nil
}
