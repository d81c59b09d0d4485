package nethost

import (
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestRenderInventory(t *testing.T) {
	hosts := []Host{
		{Name: "node-0", IP: netip.MustParseAddr("198.18.4.2")},
		{Name: "node-1", IP: netip.MustParseAddr("198.18.4.3")},
	}
	b, err := renderInventory(inventoryInput{
		Hosts:      hosts,
		Groups:     map[string][]string{"servers": {"node-0"}, "agents": {"node-1"}},
		Vars:       map[string]any{"k3s_version": "v1.36.3"},
		HostVars:   map[string]map[string]any{"node-1": {"node_role": "agent"}},
		KeyPath:    "/tmp/w/id_ed25519",
		KnownHosts: "/tmp/w dir/known_hosts",
	})
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		All struct {
			Vars     map[string]any            `json:"vars"`
			Hosts    map[string]map[string]any `json:"hosts"`
			Children map[string]struct {
				Hosts map[string]any `json:"hosts"`
			} `json:"children"`
		} `json:"all"`
	}
	if err := yaml.Unmarshal(b, &inv); err != nil {
		t.Fatalf("inventory is not YAML: %v\n%s", err, b)
	}
	v := inv.All.Vars
	if v["ansible_user"] != "root" || v["ansible_ssh_private_key_file"] != "/tmp/w/id_ed25519" || v["k3s_version"] != "v1.36.3" {
		t.Errorf("vars = %v", v)
	}
	args, _ := v["ansible_ssh_common_args"].(string)
	for _, want := range []string{"-o StrictHostKeyChecking=yes", "-o UserKnownHostsFile='/tmp/w dir/known_hosts'"} {
		if !strings.Contains(args, want) {
			t.Errorf("ansible_ssh_common_args %q lacks %q", args, want)
		}
	}
	if strings.Contains(args, "StrictHostKeyChecking=no") {
		t.Errorf("host key checking turned off: %q", args)
	}
	if inv.All.Hosts["node-0"]["ansible_host"] != "198.18.4.2" || inv.All.Hosts["node-1"]["node_role"] != "agent" {
		t.Errorf("hosts = %v", inv.All.Hosts)
	}
	if _, ok := inv.All.Children["servers"].Hosts["node-0"]; !ok {
		t.Errorf("servers group = %v", inv.All.Children)
	}
	if _, ok := inv.All.Children["agents"].Hosts["node-1"]; !ok {
		t.Errorf("agents group = %v", inv.All.Children)
	}
}

func TestRenderKnownHosts(t *testing.T) {
	got, err := renderKnownHosts(map[netip.Addr]string{
		netip.MustParseAddr("198.18.0.3"): "ssh-ed25519 BBBB host-node-1",
		netip.MustParseAddr("198.18.0.2"): "ssh-ed25519 AAAA host-node-0\n",
	})
	want := "198.18.0.2 ssh-ed25519 AAAA\n198.18.0.3 ssh-ed25519 BBBB\n"
	if err != nil || got != want {
		t.Errorf("renderKnownHosts = %q, %v; want %q", got, err, want)
	}
	if _, err := renderKnownHosts(map[netip.Addr]string{netip.MustParseAddr("198.18.0.2"): "garbage"}); err == nil {
		t.Error("a malformed host key was accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{Names: []string{"node-0"}}, ""},
		{"no hosts", Config{}, "Names is empty"},
		{"bad name", Config{Names: []string{"Node_0"}}, "not a valid hostname"},
		{"duplicate", Config{Names: []string{"a", "a"}}, "appears twice"},
		{"unknown group member", Config{Names: []string{"a"}, Groups: map[string][]string{"servers": {"b"}}}, "unknown host"},
		{"reserved group", Config{Names: []string{"a"}, Groups: map[string][]string{"all": {"a"}}}, "not a usable"},
		{"relative dir", Config{Names: []string{"a"}, Dirs: []string{"etc/cni"}}, "absolute path"},
		{"root dir", Config{Names: []string{"a"}, Dirs: []string{"/"}}, "absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.validate()
			if tt.wantErr == "" {
				if err != nil || len(got.Dirs) != len(DefaultDirs) {
					t.Errorf("validate = %v, dirs %v", err, got.Dirs)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("validate error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNamesFitInterfaceNames(t *testing.T) {
	p := instancePrefix(511)
	for _, n := range []string{bridgeName(p), vethName(p, maxHosts-1), peerTmpName(p, maxHosts-1)} {
		if len(n) > 15 {
			t.Errorf("interface name %q is %d characters, Linux allows 15", n, len(n))
		}
	}
}
