package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const allButSysResource = 0x1fffeffffff // CapBnd of a VM that withholds CAP_SYS_RESOURCE (bit 24)

func TestSpecFile(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", "/run/x", "--log", "l.json", "create", "--bundle", "/b", "--pid-file", "p", "id"}, "/b/config.json"},
		{[]string{"create", "--bundle=/b2", "id"}, "/b2/config.json"},
		{[]string{"run", "id"}, "config.json"},
		{[]string{"--root", "/r", "exec", "--process", "/tmp/p.json", "--detach", "id"}, "/tmp/p.json"},
		{[]string{"--root", "/r", "start", "id"}, ""},
		{[]string{"--root", "/r", "delete", "--force", "id"}, ""},
		{[]string{"--version"}, ""},
	} {
		got, err := specFile(tc.args)
		if err != nil || got != tc.want {
			t.Errorf("specFile(%q) = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestRewriteDropsOnlyMissingCapabilities(t *testing.T) {
	bundle := t.TempDir()
	every := []string{"CAP_NET_ADMIN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN", "CAP_BPF"}
	spec := map[string]any{"ociVersion": "1.2.0", "process": map[string]any{"args": []string{"/sbin/init"},
		"capabilities": map[string]any{"bounding": every, "effective": every, "permitted": every}}}
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	bounding := func() (uint64, error) { return allButSysResource, nil }
	if err := filterFor([]string{"create", "--bundle", bundle, "kind-node"}, bounding); err != nil {
		t.Fatal(err)
	}
	var got struct {
		OCIVersion string `json:"ociVersion"`
		Process    struct {
			Args         []string            `json:"args"`
			Capabilities map[string][]string `json:"capabilities"`
		} `json:"process"`
	}
	b, _ = os.ReadFile(filepath.Join(bundle, "config.json"))
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_BPF"}
	for _, set := range []string{"bounding", "effective", "permitted"} {
		if !slices.Equal(got.Process.Capabilities[set], want) {
			t.Errorf("%s = %v, want %v", set, got.Process.Capabilities[set], want)
		}
	}
	if got.OCIVersion != "1.2.0" || !slices.Equal(got.Process.Args, []string{"/sbin/init"}) {
		t.Errorf("the rest of the spec changed: %s", b)
	}
}

func TestExecProcessFileAndFullSetUntouched(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "process.json")
	orig := `{"args":["sh"],"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_KILL"]}}`
	if err := os.WriteFile(p, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	full := func() (uint64, error) { return 0x1ffffffffff, nil }
	if err := filterFor([]string{"exec", "--process", p, "id"}, full); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != orig {
		t.Errorf("a machine with every capability got its process file changed: %s", b)
	}
	if err := filterFor([]string{"exec", "-p", p, "id"}, func() (uint64, error) { return allButSysResource, nil }); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	var got struct{ Capabilities map[string][]string }
	_ = json.Unmarshal(b, &got)
	if !slices.Equal(got.Capabilities["bounding"], []string{"CAP_KILL"}) {
		t.Errorf("exec process file: %s", b)
	}
}
