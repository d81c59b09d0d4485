// Command pod_restart is the Ansible module that recreates workload pods on the new CNI.
package main

import (
	"context"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
	"github.com/cnimigrate/cnimigrate/internal/restart"
)

var str, list = ansible.Option{Type: ansible.TypeStr}, ansible.Option{Type: ansible.TypeList, Elements: ansible.TypeStr}

var spec = ansible.Spec{
	Name:              "pod_restart",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"namespaces":         list,
		"exclude_namespaces": list,
		"kinds":              {Type: ansible.TypeList, Elements: ansible.TypeStr, Default: restart.Kinds, Choices: restart.Kinds},
		"label_selector":     str,
		"strategy":           {Type: ansible.TypeStr, Default: restart.StrategyUnmanaged, Choices: restart.Strategies},
		"created_before":     str,
		"target_cni":         {Type: ansible.TypeStr, Default: restart.TargetCilium, Choices: restart.TargetCNIs},
		"target_cidrs":       list,
		"bare_pods":          {Type: ansible.TypeStr, Default: restart.BarePodsReport, Choices: restart.BarePodsModes},
		"other_pods":         {Type: ansible.TypeStr, Default: restart.OtherPodsReport, Choices: restart.OtherPodsModes},
		"parallelism":        {Type: ansible.TypeInt, Default: defaults.RestartParallelism},
		"timeout":            {Type: ansible.TypeInt, Default: int(defaults.RestartTimeout.Seconds())},
		"total_timeout":      {Type: ansible.TypeInt, Default: int(defaults.RestartTotalTimeout.Seconds())},
		"wait":               {Type: ansible.TypeBool, Default: true},
		"kubeconfig":         {Type: ansible.TypePath},
		"context":            str,
	},
}

type args struct {
	Namespaces        []string `json:"namespaces"`
	ExcludeNamespaces []string `json:"exclude_namespaces"`
	Kinds             []string `json:"kinds"`
	LabelSelector     string   `json:"label_selector"`
	Strategy          string   `json:"strategy"`
	CreatedBefore     string   `json:"created_before"`
	TargetCNI         string   `json:"target_cni"`
	TargetCIDRs       []string `json:"target_cidrs"`
	BarePods          string   `json:"bare_pods"`
	OtherPods         string   `json:"other_pods"`
	Parallelism       int      `json:"parallelism"`
	Timeout           int      `json:"timeout"`
	TotalTimeout      int      `json:"total_timeout"`
	Wait              bool     `json:"wait"`
	Kubeconfig        string   `json:"kubeconfig"`
	Context           string   `json:"context"`
}

func main() { ansible.Main(spec, run) }

func run(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	p := restart.Parameters{
		Namespaces: a.Namespaces, ExcludeNamespaces: a.ExcludeNamespaces, Kinds: a.Kinds,
		LabelSelector: a.LabelSelector, Strategy: a.Strategy, CreatedBefore: a.CreatedBefore,
		TargetCNI: a.TargetCNI, TargetCIDRs: a.TargetCIDRs, BarePods: a.BarePods, OtherPods: a.OtherPods, Parallelism: a.Parallelism,
		Timeout: time.Duration(a.Timeout) * time.Second, TotalTimeout: time.Duration(a.TotalTimeout) * time.Second,
		Wait: a.Wait,
	}
	if err := p.Validate(); err != nil { // bad input fails before the cluster is touched
		return nil, err
	}
	kc, err := k8s.New(a.Kubeconfig, a.Context)
	if err != nil {
		return nil, err
	}
	cl, err := restart.ClientsFor(kc)
	if err != nil {
		return nil, err
	}
	s, err := restart.Open(ctx, cl, p)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	plan := s.Plan()
	before, after := plan.Diff()
	rep := restart.Planned(plan)
	if !req.CheckMode {
		rep, err = s.Apply(ctx, plan)
	}
	return &ansible.Result{
		Changed: rep.Changed, Msg: rep.Summary(req.CheckMode), Warnings: rep.Warnings, Values: rep,
		Diff: []ansible.Diff{{Before: before, After: after, BeforeHeader: "pods on the old CNI", AfterHeader: "after pod_restart"}},
	}, err
}
