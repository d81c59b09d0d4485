// Command connectivity_check is the Ansible module that checks a cluster's health and datapath on
// any CNI (before, during and after a Calico → Cilium migration) and compares with a baseline.
package main

import (
	"context"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/connectivity"
	"github.com/cnimigrate/cnimigrate/internal/connectivity/probe"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k8s"
)

var spec = ansible.Spec{
	Name:              "connectivity_check",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"cni":               {Type: ansible.TypeStr, Default: "auto", Choices: []string{"calico", "cilium", "auto"}},
		"checks":            {Type: ansible.TypeList, Elements: ansible.TypeStr, Default: connectivity.DefaultChecks, Choices: connectivity.CheckNames()},
		"namespaces":        {Type: ansible.TypeList, Elements: ansible.TypeStr},
		"timeout":           {Type: ansible.TypeInt, Default: int(defaults.ConnectivityTimeout.Seconds())},
		"probe_timeout":     {Type: ansible.TypeInt, Default: int(defaults.ConnectivityProbeTimeout.Seconds())},
		"samples":           {Type: ansible.TypeInt, Default: defaults.ConnectivitySamples},
		"external_target":   {Type: ansible.TypeStr, Default: defaults.ConnectivityExternalTarget},
		"external_dns_name": {Type: ansible.TypeStr},
		"node_selector":     {Type: ansible.TypeDict},
		"tolerations":       {Type: ansible.TypeList, Elements: ansible.TypeDict},
		"images":            {Type: ansible.TypeDict, Default: connectivity.DefaultImages()},
		"baseline":          {Type: ansible.TypePath},
		"output_json":       {Type: ansible.TypePath},
		"output_junit":      {Type: ansible.TypePath},
		"fail_on":           {Type: ansible.TypeStr, Default: "any", Choices: []string{"any", "none"}},
		"keep":              {Type: ansible.TypeBool, Default: false},
		"iperf3":            {Type: ansible.TypeBool, Default: false},
		"kubeconfig":        {Type: ansible.TypePath},
		"context":           {Type: ansible.TypeStr},
	},
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var opts connectivity.Options
	if err := req.Decode(&opts); err != nil {
		return nil, err
	}
	params, err := opts.Parse()
	if err != nil {
		return nil, err
	}
	params.CheckMode = req.CheckMode
	clients, err := k8s.New(opts.Kubeconfig, opts.Context)
	if err != nil {
		return nil, err
	}
	rep, err := connectivity.Run(ctx, connectivity.Clients{Kube: clients.Kube, Dynamic: clients.Dynamic,
		Exec: &probe.PodExecutor{Config: clients.RESTConfig, Kube: clients.Kube}}, params)
	if rep == nil {
		return nil, err
	}
	// The only changes are the probe layer's temporary objects (created, then removed unless kept).
	res := &ansible.Result{Changed: len(rep.TemporaryObjects) > 0, Msg: rep.Summary, Warnings: rep.Notes, Values: rep}
	if res.Changed {
		header := "temporary objects (created and removed)"
		switch {
		case rep.Kept:
			header = "temporary objects (kept)"
		case params.CheckMode:
			header = "temporary objects (would be created and removed)"
		}
		res.Diff = []ansible.Diff{{Before: "", After: strings.Join(rep.TemporaryObjects, "\n") + "\n",
			BeforeHeader: "temporary objects", AfterHeader: header}}
	}
	return res, err
}
