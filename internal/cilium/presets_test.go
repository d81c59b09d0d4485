package cilium

import (
	"reflect"
	"strings"
	"testing"
)

var testAPI = APIServer{Host: "198.18.0.1", Port: 6443}

func normalizedParams(t *testing.T, p Parameters) Parameters {
	t.Helper()
	if err := p.Normalize(); err != nil {
		t.Fatal(err)
	}
	return p
}

// The presets are the values of Cilium's migration guide (migration-facts.md), key for key.
func TestPresetPerMode(t *testing.T) {
	t.Parallel()
	common := map[string]any{
		"k8sServiceHost": "198.18.0.1", "k8sServicePort": 6443, "kubeProxyReplacement": false,
		"hubble.enabled": true, "ipam.mode": "cluster-pool",
	}
	cases := []struct {
		mode   Mode
		want   map[string]any
		absent []string
	}{
		{ModeFresh, map[string]any{"ipam.operator.clusterPoolIPv4PodCIDRList": []any{"10.42.0.0/16"}},
			[]string{"tunnelPort", "routingMode", "cni.customConf", "policyEnforcementMode", "bpf.hostLegacyRouting", "rollOutCiliumPods"}},
		{ModeMigration, map[string]any{
			"ipam.operator.clusterPoolIPv4PodCIDRList": []any{"10.245.0.0/16"},
			"operator.unmanagedPodWatcher.restart":     false, "routingMode": "tunnel", "tunnelProtocol": "vxlan",
			"tunnelPort": 8473, "cni.customConf": true, "cni.uninstall": false, "policyEnforcementMode": "never",
			"bpf.hostLegacyRouting": true}, []string{"rollOutCiliumPods"}},
		{ModeFinalize, map[string]any{
			"ipam.operator.clusterPoolIPv4PodCIDRList": []any{"10.245.0.0/16"},
			"operator.unmanagedPodWatcher.restart":     true, "routingMode": "tunnel", "tunnelProtocol": "vxlan",
			"tunnelPort": 8473, "cni.customConf": false, "cni.uninstall": false, "policyEnforcementMode": "default",
			"bpf.hostLegacyRouting": false, "rollOutCiliumPods": true, "operator.rollOutPods": true}, nil},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			p := normalizedParams(t, Parameters{Mode: tc.mode, Hubble: true})
			got := Preset(p, testAPI)
			for k, v := range common {
				tc.want[k] = v
			}
			for k, want := range tc.want {
				if v, found := lookup(got, strings.Split(k, ".")); !found || !valuesEqual(v, want) {
					t.Errorf("%s = %v (found %v), want %v", k, v, found, want)
				}
			}
			for _, k := range tc.absent {
				if v, found := lookup(got, strings.Split(k, ".")); found {
					t.Errorf("%s = %v, want it unset in mode %s", k, v, tc.mode)
				}
			}
		})
	}
}

func TestOverridesReportWhatTheUserChanged(t *testing.T) {
	t.Parallel()
	p := normalizedParams(t, Parameters{Mode: ModeMigration})
	preset := Preset(p, testAPI)
	user := map[string]any{
		"tunnelPort":     8474,     // changed
		"routingMode":    "tunnel", // same as the preset: not an override
		"bpf":            nil,      // removes the whole preset subtree
		"cni":            map[string]any{"customConf": true},
		"hubble":         map[string]any{"relay": map[string]any{"enabled": true}}, // not a preset key
		"extraUserValue": "x",
	}
	got := Overrides(preset, user)
	var keys []string
	for _, o := range got {
		keys = append(keys, o.Key)
	}
	if want := []string{"bpf.hostLegacyRouting", "tunnelPort"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("override keys = %v, want %v", keys, want)
	}
	if o := got[1]; !valuesEqual(o.Preset, 8473) || !valuesEqual(o.Value, 8474) {
		t.Errorf("tunnelPort override = %+v, want preset 8473 value 8474", o)
	}
	warns := overrideWarnings(ModeMigration, got)
	if len(warns) != 2 || !strings.Contains(warns[1], "tunnelPort") {
		t.Errorf("migration-critical overrides should warn: %v", warns)
	}
	if w := overrideWarnings(ModeFresh, got); len(w) != 0 {
		t.Errorf("fresh mode warned: %v", w)
	}
}

func TestDesiredValuesLayering(t *testing.T) {
	t.Parallel()
	p := normalizedParams(t, Parameters{Mode: ModeMigration})
	preset := Preset(p, testAPI)
	desired, _, err := DesiredValues(preset, nil, map[string]any{"tunnelPort": int64(9000), "policyEnforcementMode": nil})
	if err != nil {
		t.Fatal(err)
	}
	if desired["tunnelPort"] != float64(9000) {
		t.Errorf("user value did not win: tunnelPort = %v", desired["tunnelPort"])
	}
	if _, ok := desired["policyEnforcementMode"]; ok {
		t.Error("null in values should drop the preset key")
	}
	if _, _, err := DesiredValues(preset, []string{"/does/not/exist.yaml"}, nil); err == nil {
		t.Error("unreadable values file accepted")
	}
}

func TestNormalizeDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	fresh := normalizedParams(t, Parameters{})
	if fresh.PodCIDR != "10.42.0.0/16" || fresh.TunnelPort != 0 || fresh.Mode != ModeFresh || fresh.ReleaseName != "cilium" {
		t.Errorf("fresh defaults: %+v", fresh)
	}
	mig := normalizedParams(t, Parameters{Mode: ModeMigration})
	if mig.PodCIDR != "10.245.0.0/16" || mig.TunnelPort != 8473 {
		t.Errorf("migration defaults: pod %s port %d", mig.PodCIDR, mig.TunnelPort)
	}
	for _, tc := range []struct {
		p    Parameters
		want string
	}{
		{Parameters{Mode: "replace"}, "mode must be one of"},
		{Parameters{PodCIDR: "10.245.0.0/33"}, "pod_cidr"},
		{Parameters{ServiceCIDR: "not-a-cidr"}, "service_cidr"},
		{Parameters{State: "gone"}, "state must be"},
		{Parameters{TunnelPort: 70000}, "tunnel_port"},
	} {
		p := tc.p
		if err := p.Normalize(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Normalize(%+v) = %v, want an error naming %q", tc.p, err, tc.want)
		}
	}
}

// The agent writes its CNI config and plugin where the nodes' runtime reads them, in every mode,
// beside the migration's own cni values; unset, the chart's defaults stay.
func TestPresetCNIDirs(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeFresh, ModeMigration, ModeFinalize} {
		p := normalizedParams(t, Parameters{Mode: mode,
			CNIConfDir: "/var/lib/rancher/k3s/agent/etc/cni/net.d", CNIBinDir: "/var/lib/rancher/k3s/data/current/bin"})
		got := Preset(p, testAPI)
		for k, want := range map[string]any{"cni.confPath": p.CNIConfDir, "cni.binPath": p.CNIBinDir} {
			if v, found := lookup(got, strings.Split(k, ".")); !found || v != want {
				t.Errorf("%s: %s = %v (found %v), want %v", mode, k, v, found, want)
			}
		}
		if _, found := lookup(got, []string{"cni", "customConf"}); found != (mode != ModeFresh) {
			t.Errorf("%s: cni.customConf found %v: the migration's cni values must stay beside the dirs", mode, found)
		}
	}
	got := Preset(normalizedParams(t, Parameters{}), testAPI)
	if v, found := got["cni"]; found {
		t.Errorf("without CNI dirs the preset sets cni = %v; want the chart's defaults", v)
	}
	p := Parameters{CNIConfDir: "etc/cni/net.d"}
	if err := p.Normalize(); err == nil || !strings.Contains(err.Error(), "cni_conf_dir") {
		t.Errorf("a relative cni_conf_dir was accepted: %v", err)
	}
}
