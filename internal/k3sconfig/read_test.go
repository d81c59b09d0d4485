package k3sconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// node is a fake node's files, by path relative to a temp root; ROOT in a file stands for the root.
type node map[string]string

func (n node) write(t *testing.T) (root string) {
	t.Helper()
	root = t.TempDir()
	for rel, body := range n {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "ROOT", root)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func read(t *testing.T, n node) (*Report, string, error) {
	t.Helper()
	root := n.write(t)
	rep, err := Read(Parameters{
		ConfigFile: filepath.Join(root, "config.yaml"),
		UnitFiles:  []string{filepath.Join(root, "k3s.service"), filepath.Join(root, "k3s-agent.service")},
	})
	return rep, root, err
}

// installScriptUnit is k3s.service as K3s' install script writes it (INSTALL_K3S_EXEC quoted word
// by word, one per continuation line).
func installScriptUnit(args ...string) string {
	var b strings.Builder
	b.WriteString("[Unit]\nDescription=Lightweight Kubernetes\n\n[Service]\nType=notify\n" +
		"EnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStartPre=-/sbin/modprobe overlay\n" +
		"ExecStart=/usr/local/bin/k3s \\\n    server \\\n")
	for _, a := range args {
		b.WriteString("\t'" + a + "' \\\n")
	}
	b.WriteString("\n")
	return b.String()
}

func TestMergeRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		node node
		flag string
		want any
		// source: a substring of Flag.Source ("" = unset)
		source string
	}{
		{"config file", node{"config.yaml": "flannel-backend: none\n"}, FlannelBackend, "none", "config.yaml"},
		{"a drop-in replaces the config file", node{"config.yaml": "flannel-backend: none\n",
			"config.yaml.d/50-net.yaml": "flannel-backend: vxlan\n"}, FlannelBackend, "vxlan", "config.yaml.d/50-net.yaml"},
		{"drop-ins in lexical order, .yml too", node{"config.yaml.d/20-b.yml": "flannel-backend: host-gw\n",
			"config.yaml.d/10-a.yaml": "flannel-backend: none\n"}, FlannelBackend, "host-gw", "20-b.yml"},
		{"files that are not YAML are ignored", node{"config.yaml": "flannel-backend: none\n",
			"config.yaml.d/90-old.yaml.bak": "flannel-backend: vxlan\n"}, FlannelBackend, "none", "config.yaml"},
		{"key+ appends", node{"config.yaml": "cluster-cidr: 10.42.0.0/16\n",
			"config.yaml.d/10-v6.yaml": "cluster-cidr+: fd00:42::/56\n"}, ClusterCIDR, []string{"10.42.0.0/16", "fd00:42::/56"}, "config.yaml, "},
		{"key+ with nothing before sets", node{"config.yaml.d/10.yaml": "cluster-cidr+: 10.50.0.0/16\n"},
			ClusterCIDR, []string{"10.50.0.0/16"}, "10.yaml"},
		{"a plain key after key+ replaces", node{"config.yaml": "cluster-cidr: [10.42.0.0/16]\ncluster-cidr+: [fd00::/56]\n",
			"config.yaml.d/10.yaml": "cluster-cidr: 10.60.0.0/16,fd01::/56\n"}, ClusterCIDR, []string{"10.60.0.0/16", "fd01::/56"}, "10.yaml"},
		{"YAML 1.1 yes is true", node{"config.yaml": "disable-network-policy: yes\n"}, DisableNetworkPolicy, true, "config.yaml"},
		{"unset bool: K3s' default", node{"config.yaml": "flannel-backend: none\n"}, DisableNetworkPolicy, false, ""},
		{"unset backend is vxlan, not none", node{"config.yaml": "token: x\n"}, FlannelBackend, "vxlan", ""},
		{"--flag=value", node{"k3s.service": installScriptUnit("--flannel-backend=none")}, FlannelBackend, "none", "k3s.service (ExecStart)"},
		{"--flag value", node{"k3s.service": "[Service]\nExecStart=/usr/local/bin/k3s server --flannel-backend wireguard-native\n"},
			FlannelBackend, "wireguard-native", "(ExecStart)"},
		{"single dash", node{"k3s.service": "[Service]\nExecStart=/usr/local/bin/k3s server -flannel-backend=none\n"},
			FlannelBackend, "none", "(ExecStart)"},
		{"bare bool flag is true", node{"k3s.service": installScriptUnit("--disable-network-policy")}, DisableNetworkPolicy, true, "(ExecStart)"},
		{"bool flag =false", node{"config.yaml": "disable-kube-proxy: true\n",
			"k3s.service": installScriptUnit("--disable-kube-proxy=false")}, DisableKubeProxy, false, "(ExecStart)"},
		{"command line wins over the config", node{"config.yaml": "flannel-backend: none\n",
			"k3s.service": installScriptUnit("--flannel-backend=vxlan")}, FlannelBackend, "vxlan", "(ExecStart)"},
		{"command line adds to a list", node{"config.yaml": "cluster-cidr: 10.42.0.0/16\n",
			"k3s.service": installScriptUnit("--cluster-cidr=fd00::/56")}, ClusterCIDR, []string{"10.42.0.0/16", "fd00::/56"}, "config.yaml, "},
		{"flags before the command are not the server's", node{"k3s.service": "[Service]\nExecStart=/usr/local/bin/k3s --debug server\n"},
			FlannelBackend, "vxlan", ""},
		{"--config names another file", node{"other.yaml": "flannel-backend: host-gw\n", "config.yaml": "flannel-backend: none\n",
			"k3s.service": "[Service]\nExecStart=/usr/local/bin/k3s server --config ROOT/other.yaml\n"}, FlannelBackend, "host-gw", "other.yaml"},
		{"K3S_CONFIG_FILE in Environment= names another file", node{"other.yaml": "flannel-backend: host-gw\n", "config.yaml": "flannel-backend: none\n",
			"k3s.service": "[Service]\nEnvironment=\"K3S_CONFIG_FILE=ROOT/other.yaml\"\nExecStart=/usr/local/bin/k3s server\n"}, FlannelBackend, "host-gw", "other.yaml"},
		{"a unit drop-in replaces ExecStart", node{"k3s.service": installScriptUnit("--flannel-backend=none"),
			"k3s.service.d/10-override.conf": "[Service]\nExecStart=\nExecStart=/usr/local/bin/k3s server\n"}, FlannelBackend, "vxlan", ""},
		{"the agent unit when there is no server unit", node{"k3s-agent.service": "[Service]\nExecStart=/usr/local/bin/k3s agent --flannel-backend=none\n"},
			FlannelBackend, "none", "k3s-agent.service"},
		{"commented-out flags do not count", node{"k3s.service": "[Service]\nExecStart=/usr/local/bin/k3s \\\n    server \\\n#\t'--flannel-backend=none' \\\n\t'--disable-network-policy'\n"},
			FlannelBackend, "vxlan", ""},
		{"double quotes", node{"k3s.service": "[Service]\nExecStart=/usr/local/bin/k3s server \"--flannel-backend=none\"\n"},
			FlannelBackend, "none", "(ExecStart)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, _, err := read(t, tc.node)
			if err != nil {
				t.Fatal(err)
			}
			f := rep.Flags[tc.flag]
			if !reflect.DeepEqual(f.Value, tc.want) {
				t.Errorf("%s = %#v, want %#v (%s)", tc.flag, f.Value, tc.want, f.Description)
			}
			if f.Set != (tc.source != "") || !strings.Contains(f.Source, tc.source) {
				t.Errorf("%s: set %v, source %q; want source containing %q", tc.flag, f.Set, f.Source, tc.source)
			}
		})
	}
}

// Secrets in the config files and on the command line are named for the caller and appear in no
// reported field, whatever else the files hold.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	rep, _, err := read(t, node{
		"config.yaml": "token: K10server-secret::server:abc\nagent-token: agent-secret\n" +
			"datastore-endpoint: postgres://k3s:db-secret@db:5432/k3s\nflannel-backend: none\ntoken-file: /etc/token\n",
		"k3s.service": installScriptUnit("--token", "cli-secret", "--disable-network-policy"),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	for _, s := range []string{"server-secret", "agent-secret", "db-secret", "cli-secret"} {
		if strings.Contains(string(b), s) {
			t.Errorf("%s is in the report: %s", s, b)
		}
		if !containsPart(rep.Secrets, s) {
			t.Errorf("%s is not among the secrets named for the caller: %q", s, rep.Secrets)
		}
	}
	if containsPart(rep.Secrets, "/etc/token") {
		t.Errorf("a token file's path is not a secret: %q", rep.Secrets)
	}
	if f := rep.Flags[DisableNetworkPolicy]; f.Value != true {
		t.Errorf("the flag after --token's value was lost: %+v", f)
	}
}

func containsPart(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// An unset flag is described as unset, with K3s' default and what it means, and where it was
// looked for; a set one names its file.
func TestDescriptions(t *testing.T) {
	t.Parallel()
	rep, root, err := read(t, node{"config.yaml": "disable-network-policy: true\n",
		"config.yaml.d/50-cni.yaml": "flannel-backend: host-gw\n", "k3s.service": installScriptUnit()})
	if err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string][]string{
		FlannelBackend:       {"flannel-backend is host-gw (set in " + filepath.Join(root, "config.yaml.d/50-cni.yaml") + ")", "K3s runs flannel"},
		DisableKubeProxy:     {"disable-kube-proxy is not set (looked in " + filepath.Join(root, "config.yaml"), "ExecStart of " + filepath.Join(root, "k3s.service"), "K3s' default false applies", "K3s runs kube-proxy"},
		ClusterCIDR:          {"K3s' default 10.42.0.0/16 applies"},
		DisableNetworkPolicy: {"network policy controller is off"},
	} {
		for _, w := range want {
			if d := rep.Flags[flag].Description; !strings.Contains(d, w) {
				t.Errorf("%s: description %q lacks %q", flag, d, w)
			}
		}
	}
	if rep.Command != "server" || !rep.Found || len(rep.ConfigFiles) != 2 || len(rep.UnitFiles) != 1 {
		t.Errorf("report: %+v", rep)
	}
}

// What cannot be read is said, not guessed: no configuration at all, flags behind environment
// variables, a malformed file (without repeating its values), a bool K3s would not accept.
func TestWhatCannotBeRead(t *testing.T) {
	t.Parallel()
	rep, _, err := read(t, node{})
	if err != nil || rep.Found || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "no K3s configuration here") {
		t.Errorf("nothing there: found %v, warnings %q, err %v", rep.Found, rep.Warnings, err)
	}
	if rep.Flags[FlannelBackend].Value != "vxlan" || rep.Flags[FlannelBackend].Set {
		t.Errorf("nothing there: flannel-backend %+v, want K3s' default, unset", rep.Flags[FlannelBackend])
	}
	rep, _, _ = read(t, node{"k3s.service": "[Service]\nExecStart=/usr/local/bin/k3s server $K3S_EXTRA_ARGS\n"})
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "$K3S_EXTRA_ARGS") {
		t.Errorf("environment in ExecStart: warnings %q", rep.Warnings)
	}
	_, _, err = read(t, node{"config.yaml": "K10leaked-secret-token\n"})
	if err == nil || strings.Contains(err.Error(), "K10leak") || !strings.Contains(err.Error(), "config.yaml") {
		t.Errorf("a config that is not a mapping: err %v; want the file named, no value", err)
	}
	_, _, err = read(t, node{"config.yaml.d/10.yaml": "disable-network-policy: maybe\n"})
	if err == nil || !strings.Contains(err.Error(), "disable-network-policy") || !strings.Contains(err.Error(), "10.yaml") {
		t.Errorf("a bool K3s rejects: err %v", err)
	}
}
