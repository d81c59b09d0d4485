package ansiblee2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// TestIntegrationChartSrcCopied: the cilium role copies an air-gapped chart (a directory, or a
// .tgz with its .prov) from the controller to the first server, where cilium_install then reads it;
// a second run copies nothing; check mode stops rather than check a chart that is not there; a
// cilium_chart_src that does not exist stops the play. The "first server" is the controller itself
// (connection local): the copy is what is under test, not SSH.
func TestIntegrationChartSrcCopied(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (ansible-playbook): skipped under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root := library.Root()
	tmp := t.TempDir()
	inv := filepath.Join(tmp, "inventory.yml")
	must(t, os.WriteFile(inv, []byte("all:\n  children:\n    servers:\n      hosts:\n        server-0:\n"+
		"          ansible_connection: local\n          ansible_python_interpreter: /usr/bin/python3\n"), 0o600))
	chartDir := filepath.Join(root, "internal", "cilium", "testdata", "cilium")
	archive := filepath.Join(tmp, "src", "cilium-1.20.2.tgz")
	must(t, os.MkdirAll(filepath.Dir(archive), 0o755))
	out, err := exec.CommandContext(ctx, "tar", "-czf", archive, "-C", filepath.Dir(chartDir), "cilium").CombinedOutput()
	if err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	must(t, os.WriteFile(archive+".prov", []byte("signature stand-in\n"), 0o600))

	const copyTask = "cilium : Cilium | Copy the chart to the first server" // as Ansible names a role's task
	run := func(t *testing.T, src, dest string, check bool) *playbook.Result {
		t.Helper()
		res, err := playbook.Run(ctx, playbook.Params{Dir: root, Inventory: inv, Playbook: "e2e/ansible/testdata/chart_src.yml",
			ExtraVars: map[string]any{"cilium_chart_src": src, "cilium_chart_dest_dir": dest}, Check: check})
		if err != nil && res == nil {
			t.Fatalf("ansible-playbook: %v", err)
		}
		return res
	}
	changed := func(res *playbook.Result, task string) bool {
		h, ok := res.HostResult(task, "server-0")
		return ok && h.Changed()
	}

	for _, tc := range []struct{ name, src, want string }{
		{"directory", chartDir + "/", "cilium-1.20.2/Chart.yaml"}, // named after its version: an older chart's files never mix in
		{"archive", archive, "cilium-1.20.2.tgz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "charts")
			if res := run(t, tc.src, dest, true); res.ExitCode == 0 || !strings.Contains(res.Output, "Stop if check mode cannot see the chart") {
				t.Errorf("check mode before the first copy: exit %d, want the check-mode stop:\n%s", res.ExitCode, res.Output)
			}
			if _, err := os.Stat(dest); err == nil {
				t.Errorf("check mode created %s", dest)
			}
			first := run(t, tc.src, dest, false)
			if first.ExitCode != 0 || !changed(first, copyTask) {
				t.Fatalf("first copy: exit %d, changed %v:\n%s", first.ExitCode, changed(first, copyTask), first.Output)
			}
			if _, err := os.Stat(filepath.Join(dest, tc.want)); err != nil {
				t.Errorf("chart not on the server: %v", err)
			}
			if tc.name == "archive" {
				if _, err := os.Stat(filepath.Join(dest, tc.want+".prov")); err != nil {
					t.Errorf("the .prov did not follow the archive: %v", err)
				}
			}
			again := run(t, tc.src, dest, false)
			if again.ExitCode != 0 || again.Totals().Changed != 0 {
				t.Errorf("second run: exit %d, %s, want nothing changed", again.ExitCode, again.Totals())
			}
			if checked := run(t, tc.src, dest, true); checked.ExitCode != 0 {
				t.Errorf("check mode once the chart is there: exit %d:\n%s", checked.ExitCode, checked.Output)
			}
		})
	}
	t.Run("missing source", func(t *testing.T) {
		res := run(t, filepath.Join(tmp, "nope.tgz"), filepath.Join(t.TempDir(), "charts"), false)
		if res.ExitCode == 0 || !strings.Contains(res.Output, "Stop if cilium_chart_src is not on the controller") {
			t.Errorf("missing cilium_chart_src: exit %d:\n%s", res.ExitCode, res.Output)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
