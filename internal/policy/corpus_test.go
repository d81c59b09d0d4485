package policy

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testCIDRs: K3s' pod and service CIDRs, Cilium's migration pod CIDR and a node range.
var testCIDRs = []netip.Prefix{
	netip.MustParsePrefix("10.42.0.0/16"), netip.MustParsePrefix("10.43.0.0/16"),
	netip.MustParsePrefix("10.245.0.0/16"), netip.MustParsePrefix("192.168.1.0/24"),
}

// translateFile translates the objects of one testdata file.
func translateFile(t *testing.T, path string) *Result {
	t.Helper()
	c := newCollector()
	if err := c.readFile(path); err != nil {
		t.Fatal(err)
	}
	res, err := Translate(c.in, Options{ClusterCIDRs: testCIDRs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCorpus translates policies written from Calico's documentation and compares the Cilium YAML
// and the report with golden files (go test -run TestCorpus -update rewrites them).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/calico/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			res := translateFile(t, f)
			objs, err := RenderYAML(res.Objects)
			if err != nil {
				t.Fatal(err)
			}
			report, err := yaml.Marshal(res.Report)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata/golden", name+".cilium.yaml"), objs)
			golden(t, filepath.Join("testdata/golden", name+".report.yaml"), report)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestCorpus -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the translation:\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
