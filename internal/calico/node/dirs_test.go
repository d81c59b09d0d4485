package node

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

func TestParseContainerdCNI(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		toml      string
		conf, bin []string
	}{
		{
			name: "config v2 (K3s with embedded flannel)",
			toml: `version = 2
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/var/lib/rancher/k3s/data/abc/bin"
  conf_dir = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
`,
			conf: []string{"/var/lib/rancher/k3s/agent/etc/cni/net.d"},
			bin:  []string{"/var/lib/rancher/k3s/data/abc/bin"},
		},
		{
			name: "config v3 with bin_dirs",
			toml: `version = 3
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ["/var/lib/rancher/k3s/data/cni", "/opt/cni/bin"]
  conf_dir = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
`,
			conf: []string{"/var/lib/rancher/k3s/agent/etc/cni/net.d"},
			bin:  []string{"/var/lib/rancher/k3s/data/cni", "/opt/cni/bin"},
		},
		{
			name: "config v3 with bin_dir",
			toml: "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.cni]\nbin_dir = '/opt/cni/bin'\nconf_dir = '/etc/cni/net.d'\n",
			conf: []string{"/etc/cni/net.d"},
			bin:  []string{"/opt/cni/bin"},
		},
		{
			name: "no cni section (K3s with --flannel-backend=none)",
			toml: "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"overlayfs\"\n",
		},
	}
	for _, c := range cases {
		conf, bin, err := parseContainerdCNI([]byte(c.toml))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(conf, c.conf) || !reflect.DeepEqual(bin, c.bin) {
			t.Errorf("%s: got conf %v bin %v, want conf %v bin %v", c.name, conf, bin, c.conf, c.bin)
		}
	}
	if _, _, err := parseContainerdCNI([]byte("[plugins\nbroken")); err == nil {
		t.Error("a broken config.toml parsed without error")
	}
}

func TestDiscoverDirs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("[plugins.\"io.containerd.grpc.v1.cri\".cni]\nconf_dir = \"/x/net.d\"\nbin_dir = \"/x/bin\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := discoverDirs(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantConf := []string{"/x/net.d", defaults.StandardCNIConfDir, defaults.K3sCNIConfDir}
	wantBin := []string{"/x/bin", defaults.StandardCNIBinDir, defaults.K3sCNIBinDir}
	if !reflect.DeepEqual(d.Conf, wantConf) || !reflect.DeepEqual(d.Bin, wantBin) {
		t.Errorf("configured dirs come first, then the standard ones: got %v %v", d.Conf, d.Bin)
	}
	d, err = discoverDirs(filepath.Join(dir, "missing.toml"), nil, nil)
	if err != nil || d.Conf[0] != defaults.StandardCNIConfDir {
		t.Errorf("a missing config falls back to the standard dirs: %v %v", d, err)
	}
	d, err = discoverDirs(cfg, []string{"/only/conf"}, nil)
	if err != nil || !reflect.DeepEqual(d.Conf, []string{"/only/conf"}) || len(d.Bin) != 0 {
		t.Errorf("overrides replace discovery: %v %v", d, err)
	}
}
