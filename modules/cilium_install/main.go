// Command cilium_install is the Ansible module that installs, upgrades and removes Cilium with the
// Helm v4 SDK: a plain install, side by side with Calico for a live migration, or the final switch.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/cilium"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

var spec = ansible.Spec{
	Name:              "cilium_install",
	SupportsCheckMode: true,
	Options: map[string]ansible.Option{
		"state":                   {Type: ansible.TypeStr, Default: "present", Choices: []string{"present", "absent"}, Aliases: []string{"release_state"}},
		"release_name":            {Type: ansible.TypeStr, Default: defaults.CiliumReleaseName, Aliases: []string{"name"}},
		"release_namespace":       {Type: ansible.TypeStr, Default: defaults.CiliumNamespace, Aliases: []string{"namespace"}},
		"chart_ref":               {Type: ansible.TypeStr, Default: defaults.CiliumChartName},
		"chart_repo_url":          {Type: ansible.TypeStr, Default: defaults.CiliumChartRepoURL},
		"chart_version":           {Type: ansible.TypeStr},
		"verify":                  {Type: ansible.TypeStr, Default: cilium.VerifyAuto, Choices: []string{cilium.VerifyAuto, cilium.VerifyAlways, cilium.VerifyNever}},
		"keyring":                 {Type: ansible.TypePath},
		"values":                  {Type: ansible.TypeDict, Aliases: []string{"release_values"}, Masked: true},
		"values_files":            {Type: ansible.TypeList, Elements: ansible.TypePath, Default: []string{}},
		"mode":                    {Type: ansible.TypeStr, Default: "fresh", Choices: []string{"fresh", "migration", "finalize"}},
		"pod_cidr":                {Type: ansible.TypeStr},
		"tunnel_port":             {Type: ansible.TypeInt},
		"k8s_service_host":        {Type: ansible.TypeStr},
		"k8s_service_port":        {Type: ansible.TypeInt},
		"kube_proxy_replacement":  {Type: ansible.TypeBool, Default: false},
		"hubble":                  {Type: ansible.TypeBool, Default: true},
		"service_cidr":            {Type: ansible.TypeStr, Default: defaults.K3sServiceCIDR},
		"cluster_cidr":            {Type: ansible.TypeStr, Default: defaults.K3sClusterCIDR},
		"cni_conf_dir":            {Type: ansible.TypePath},
		"cni_bin_dir":             {Type: ansible.TypePath},
		"patch_calico_autodetect": {Type: ansible.TypeBool, Default: false},
		"wait":                    {Type: ansible.TypeBool, Default: false},
		"timeout":                 {Type: ansible.TypeInt, Default: int64(defaults.DefaultTimeout.Seconds()), Aliases: []string{"wait_timeout"}},
		"rollback_on_failure":     {Type: ansible.TypeBool, Default: false, Aliases: []string{"atomic"}},
		"kubeconfig":              {Type: ansible.TypePath, Aliases: []string{"kubeconfig_path"}},
		"context":                 {Type: ansible.TypeStr, Aliases: []string{"kube_context"}},
	},
}

type args struct {
	State                 string         `json:"state"`
	ReleaseName           string         `json:"release_name"`
	ReleaseNamespace      string         `json:"release_namespace"`
	ChartRef              string         `json:"chart_ref"`
	ChartRepoURL          string         `json:"chart_repo_url"`
	ChartVersion          string         `json:"chart_version"`
	Verify                string         `json:"verify"`
	Keyring               string         `json:"keyring"`
	Values                map[string]any `json:"values"`
	ValuesFiles           []string       `json:"values_files"`
	Mode                  string         `json:"mode"`
	PodCIDR               string         `json:"pod_cidr"`
	TunnelPort            int            `json:"tunnel_port"`
	K8sServiceHost        string         `json:"k8s_service_host"`
	K8sServicePort        int            `json:"k8s_service_port"`
	KubeProxyReplacement  bool           `json:"kube_proxy_replacement"`
	Hubble                bool           `json:"hubble"`
	ServiceCIDR           string         `json:"service_cidr"`
	ClusterCIDR           string         `json:"cluster_cidr"`
	CNIConfDir            string         `json:"cni_conf_dir"`
	CNIBinDir             string         `json:"cni_bin_dir"`
	PatchCalicoAutodetect bool           `json:"patch_calico_autodetect"`
	Wait                  bool           `json:"wait"`
	Timeout               int64          `json:"timeout"`
	RollbackOnFailure     bool           `json:"rollback_on_failure"`
	Kubeconfig            string         `json:"kubeconfig"`
	Context               string         `json:"context"`
}

func main() { ansible.Main(spec, handle) }

func handle(ctx context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	// Secrets in the values (a TLS key, a password in extraEnv) never come back in the result.
	req.AddNoLogValues(cilium.SecretStrings(a.Values, a.ValuesFiles)...)
	if a.Timeout <= 0 {
		return nil, fmt.Errorf("timeout must be a positive number of seconds, got %d", a.Timeout)
	}
	p := cilium.Parameters{
		State: a.State, ReleaseName: a.ReleaseName, Namespace: a.ReleaseNamespace, ChartRef: a.ChartRef,
		ChartRepoURL: a.ChartRepoURL, ChartVersion: a.ChartVersion, Verify: a.Verify, Keyring: a.Keyring, Values: a.Values, ValuesFiles: a.ValuesFiles,
		Mode: cilium.Mode(a.Mode), PodCIDR: a.PodCIDR, TunnelPort: a.TunnelPort, K8sServiceHost: a.K8sServiceHost,
		K8sServicePort: a.K8sServicePort, KubeProxyReplacement: a.KubeProxyReplacement, Hubble: a.Hubble,
		ServiceCIDR: a.ServiceCIDR, ClusterCIDR: a.ClusterCIDR, CNIConfDir: a.CNIConfDir, CNIBinDir: a.CNIBinDir,
		PatchCalicoAutodetect: a.PatchCalicoAutodetect,
		Wait:                  a.Wait, Timeout: time.Duration(a.Timeout) * time.Second, RollbackOnFailure: a.RollbackOnFailure, Kubeconfig: a.Kubeconfig,
		Context: a.Context, CheckMode: req.CheckMode, Diff: req.Diff,
	}
	out, err := cilium.Run(ctx, p)
	if out == nil {
		return nil, err
	}
	res := &ansible.Result{Changed: out.Changed, Msg: out.Msg, Warnings: out.Warnings, Values: out.Result}
	for _, d := range out.Diffs {
		res.Diff = append(res.Diff, ansible.Diff{Before: d.Before, After: d.After, BeforeHeader: d.BeforeHeader, AfterHeader: d.AfterHeader})
	}
	return res, err
}
