package lab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	mod := func(f func(*Config)) Config { c := Defaults(); f(&c); return c }
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" means valid
	}{
		{"defaults", Defaults(), ""},
		{"zero config", Config{}, "no nodes"},
		{"agents only", mod(func(c *Config) { c.Servers = 0 }), "no server"},
		{"negative", mod(func(c *Config) { c.Agents = -1 }), "negative"},
		{"too many", mod(func(c *Config) { c.Agents = 250 }), "more than the lab supports"},
		{"max", mod(func(c *Config) { c.Servers, c.Agents = 3, 247 }), ""},
		{"bad calico", mod(func(c *Config) { c.Calico = "flannel" }), `calico "flannel"`},
		{"bad name", mod(func(c *Config) { c.Name = "Lab_1" }), "name"},
		{"long name", mod(func(c *Config) { c.Name = strings.Repeat("a", 21) }), "name"},
		{"bad port", mod(func(c *Config) { c.APIServerPort = 70000 }), "not a TCP port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.complete()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

// The Go constants must name what hack/tools.sh builds and the Makefile downloads.
func TestVersionsMatchHack(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../hack/versions.sh")
	if err != nil {
		t.Fatalf("hack/versions.sh (in the repository, next to this package's constants): %v", err)
	}
	for key, want := range map[string]string{
		"KUBE_VERSION": defaults.LabKubeVersion, "ETCD_VERSION": defaults.LabEtcdVersion,
		"KWOK_VERSION": defaults.LabKwokVersion, "CALICO_MODULE_VERSION": defaults.LabCalicoModuleVersion,
	} {
		m := regexp.MustCompile(`(?m)^` + key + `=(\S+)`).FindSubmatch(data)
		if m == nil || string(m[1]) != want {
			t.Errorf("hack/versions.sh %s = %q, internal/defaults says %q", key, m, want)
		}
	}
}

func TestFindToolsMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "etcd"), []byte("#!/bin/sh\necho 'etcd Version: 3.4.23'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := FindTools(context.Background(), dir)
	if !errors.Is(err, ErrToolsMissing) || !strings.Contains(err.Error(), "kube-apiserver") || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("want a missing-tools error naming kube-apiserver and `make tools`, got %v", err)
	}
	for _, tl := range tools {
		script := "#!/bin/sh\necho '" + tl.wantVersion + "'\n"
		if tl.name == "etcd" {
			script = "#!/bin/sh\necho 'etcd Version: 3.4.23'\n"
		}
		if err := os.WriteFile(filepath.Join(dir, tl.name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, err = FindTools(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "wrong version") || !strings.Contains(err.Error(), "3.4.23") {
		t.Fatalf("want a wrong-version error naming etcd 3.4.23, got %v", err)
	}
}

func TestMakeWorkDirRefusesExisting(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "lab")
	if err := makeWorkDir(dir, "x"); err != nil {
		t.Fatal(err)
	}
	st := &State{Name: "x", WorkDir: dir, OwnerPID: os.Getpid(), Phase: PhaseReady}
	if err := st.write(); err != nil {
		t.Fatal(err)
	}
	err := makeWorkDir(dir, "x")
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "down --name x") {
		t.Fatalf("second makeWorkDir: want 'already exists … down --name x', got %v", err)
	}
}

func TestDownDirLeavesForeignDirs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := DownDir(context.Background(), dir); err == nil {
		t.Fatal("DownDir removed a directory without a lab state file")
	}
	if _, err := os.Stat(filepath.Join(dir, "precious")); err != nil {
		t.Fatalf("DownDir touched a foreign dir: %v", err)
	}
	if err := DownDir(context.Background(), filepath.Join(dir, "absent")); err != nil {
		t.Fatalf("DownDir of a missing dir must succeed like rm -f: %v", err)
	}
}
