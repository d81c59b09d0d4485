package cilium

import (
	"fmt"
	"strings"
)

// APIServer is where Cilium agents reach the Kubernetes API (k8sServiceHost/Port): on K3s the
// agents replace kube-proxy's path to the API, so they need a real address, not the Service IP.
type APIServer struct {
	Host string
	Port int
}

// Preset returns the Helm values a mode requires, from migration-facts.md (Cilium's live-migration
// guide) plus the K3s essentials: API server address, cluster-pool IPAM with the chosen pod CIDR,
// kube-proxy replacement and Hubble.
func Preset(p Parameters, api APIServer) map[string]any {
	v := map[string]any{
		"k8sServiceHost":       api.Host,
		"k8sServicePort":       api.Port,
		"kubeProxyReplacement": p.KubeProxyReplacement,
		"hubble":               map[string]any{"enabled": p.Hubble},
		"ipam": map[string]any{
			"mode": "cluster-pool",
			"operator": map[string]any{
				"clusterPoolIPv4PodCIDRList": []any{p.PodCIDR},
			},
		},
	}
	if p.TunnelPort != 0 {
		v["tunnelPort"] = p.TunnelPort
	}
	if cni := cniDirValues(p); len(cni) > 0 {
		v["cni"] = cni
	}
	switch p.Mode {
	case ModeMigration:
		v = mergeValues(v, migrationValues(false))
	case ModeFinalize:
		v = mergeValues(v, migrationValues(true))
	}
	return v
}

// cniDirValues points the agent's CNI config and plugin at the dirs the nodes' runtime reads: a
// config written anywhere else is never used, and pods stay without a network.
func cniDirValues(p Parameters) map[string]any {
	cni := map[string]any{}
	if p.CNIConfDir != "" {
		cni["confPath"] = p.CNIConfDir
	}
	if p.CNIBinDir != "" {
		cni["binPath"] = p.CNIBinDir
	}
	return cni
}

// migrationValues: the side-by-side values, or (final) the values that end the migration. Both keep
// the tunnel (routing mode, protocol, port) of the migration so that nodes keep talking while the
// agents restart. final also rolls the agents and the operator when their config changes, which is
// the guide's "restart the cilium DaemonSet" step, done once by Helm.
func migrationValues(final bool) map[string]any {
	v := map[string]any{
		"routingMode":    "tunnel",
		"tunnelProtocol": "vxlan",
		"cni": map[string]any{
			"customConf": !final,
			"uninstall":  false,
		},
		"operator": map[string]any{
			"unmanagedPodWatcher": map[string]any{"restart": final},
		},
		"policyEnforcementMode": "never",
		"bpf":                   map[string]any{"hostLegacyRouting": !final},
	}
	if final {
		v["policyEnforcementMode"] = "default"
		v["rollOutCiliumPods"] = true
		v["operator"].(map[string]any)["rollOutPods"] = true
	}
	return v
}

// Override is one preset value a user changed through values or values_files.
type Override struct {
	Key    string `json:"key"`
	Preset any    `json:"preset"`
	Value  any    `json:"value"`
}

// Overrides lists the preset leaves that user (values_files + values merged) sets differently.
// A user null (deleting the preset so the chart default applies) counts as an override.
func Overrides(preset, user map[string]any) []Override {
	var out []Override
	for _, path := range leaves(preset) {
		pv, _ := lookup(preset, path)
		uv, found := lookup(user, path)
		if !found || valuesEqual(pv, uv) {
			continue
		}
		out = append(out, Override{Key: strings.Join(path, "."), Preset: maskAt(path, pv), Value: maskAt(path, uv)})
	}
	return out
}

func maskAt(path []string, v any) any {
	for _, k := range path {
		if secretKey(k) {
			return maskWalk(v, true)
		}
	}
	return v
}

// migrationCritical are the preset keys the side-by-side phase depends on: overriding them in
// migration mode risks the running Calico network, so the module warns.
var migrationCritical = []string{
	"routingMode", "tunnelProtocol", "tunnelPort", "cni.customConf", "cni.uninstall",
	"ipam.mode", "ipam.operator.clusterPoolIPv4PodCIDRList", "policyEnforcementMode",
	"bpf.hostLegacyRouting", "operator.unmanagedPodWatcher.restart",
}

// overrideWarnings warns about overridden migration-critical presets in migration mode.
func overrideWarnings(mode Mode, overrides []Override) []string {
	if mode != ModeMigration {
		return nil
	}
	var out []string
	for _, o := range overrides {
		for _, k := range migrationCritical {
			if o.Key == k {
				out = append(out, fmt.Sprintf("values override the migration preset %s (preset %v, given %v): "+
					"the live migration relies on it", o.Key, o.Preset, o.Value))
			}
		}
	}
	return out
}

// DesiredValues builds what is handed to Helm: preset, then values_files in order, then values.
// It returns the merged values (normalized like Helm stores them) and the user layer.
func DesiredValues(preset map[string]any, files []string, values map[string]any) (desired, user map[string]any, err error) {
	fileVals, err := readValuesFiles(files)
	if err != nil {
		return nil, nil, err
	}
	user = layerValues(fileVals, values)
	desired, err = normalizeValues(mergeValues(preset, user))
	if err != nil {
		return nil, nil, err
	}
	return desired, user, nil
}
