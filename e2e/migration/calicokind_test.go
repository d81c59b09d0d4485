package migration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// calicoVXLAN turns Calico's released calico.yaml (BGP with IPIP) into the VXLAN-only install the
// kind tier runs: these kernels have no IPIP module. The same edits Calico's documentation gives
// for VXLAN without BGP: the vxlan backend, an IPv4 pool in VXLAN mode on the cluster's pod CIDR,
// and no BIRD probes. Each edit must apply exactly once, so a changed manifest fails loudly.
func calicoVXLAN(manifest, podCIDR string) (string, error) {
	edits := []struct {
		what string
		re   *regexp.Regexp
		with string
	}{
		{"backend", regexp.MustCompile(`(?m)^(\s*calico_backend: )"bird"$`), `${1}"vxlan"`},
		{"IPIP off", regexp.MustCompile(`(?m)^(\s*- name: CALICO_IPV4POOL_IPIP\n\s*value: )"Always"$`), `${1}"Never"`},
		{"VXLAN on", regexp.MustCompile(`(?m)^(\s*- name: CALICO_IPV4POOL_VXLAN\n\s*value: )"Never"$`), `${1}"Always"`},
		{"pool CIDR", regexp.MustCompile(`(?m)^(\s*)# (- name: CALICO_IPV4POOL_CIDR)\n(\s*)#   value: "[0-9./]+"$`),
			"${1}${2}\n${3}  value: \"" + podCIDR + "\""},
		{"no BIRD liveness", regexp.MustCompile(`(?m)^\s*- -bird-live\n`), ""},
		{"no BIRD readiness", regexp.MustCompile(`(?m)^\s*- -bird-ready\n`), ""},
	}
	for _, e := range edits {
		if n := len(e.re.FindAllStringIndex(manifest, -1)); n != 1 {
			return "", fmt.Errorf("calico.yaml: edit %q matches %d places, want 1", e.what, n)
		}
		manifest = e.re.ReplaceAllString(manifest, e.with)
	}
	return manifest, nil
}

func TestCalicoVXLAN(t *testing.T) {
	dir, err := calicoManifests(t.Context())
	if err != nil {
		t.Skipf("Calico's module is not in the module cache and cannot be downloaded: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "calico.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := calicoVXLAN(string(b), "10.42.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`calico_backend: "vxlan"`, "value: \"10.42.0.0/16\""} {
		if !strings.Contains(out, want) {
			t.Errorf("VXLAN manifest lacks %s", want)
		}
	}
	for _, gone := range []string{"-bird-live", "-bird-ready", `calico_backend: "bird"`} {
		if strings.Contains(out, gone) {
			t.Errorf("VXLAN manifest still has %s", gone)
		}
	}
	if m := regexp.MustCompile(`CALICO_IPV4POOL_VXLAN\n\s*value: "Always"`); !m.MatchString(out) {
		t.Error("the IPv4 pool is not in VXLAN mode")
	}
	if _, err := calicoVXLAN(out, "10.42.0.0/16"); err == nil {
		t.Error("editing an edited manifest again succeeded; each edit must match exactly once")
	}
}
