package ansiblee2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost"
	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost/nethosttest"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

const testTimeout = 20 * time.Minute // includes a cold build of every module

// TestIntegrationModulesOverSSH builds the modules, starts two node hosts and drives them with
// ansible-playbook over SSH (host keys checked), then checks nothing is left behind.
func TestIntegrationModulesOverSSH(t *testing.T) {
	var hs *nethost.Hosts
	var before []procID
	t.Cleanup(func() { // registered first, so it runs last: after the hosts are destroyed
		if hs != nil {
			assertNoLeftovers(t, hs, before)
		}
	})
	hs = nethosttest.Start(t, 2)
	t.Cleanup(func() { before = hostProcs(t, hs) }) // runs before the hosts are destroyed

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	root := library.Root()
	mods, notes, err := discoverModules(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		t.Log(n)
	}
	t.Logf("modules under test: %v (plus the %s fixture)", mods, fixture)
	lib := filepath.Join(t.TempDir(), "library")
	var buildLog bytes.Buffer
	sidecars, err := buildModules(ctx, t, root, lib, mods, &buildLog)
	if err != nil {
		t.Fatalf("build modules: %v\n%s", err, buildLog.String())
	}
	run := func(t *testing.T, p playbook.Params) *playbook.Result {
		t.Helper()
		p.Dir, p.Inventory, p.Library = root, hs.InventoryPath(), []string{lib}
		res, err := playbook.Run(ctx, p)
		if err != nil {
			t.Fatalf("ansible-playbook: %v", err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("ansible-playbook output:\n%s", res.Output)
			}
		})
		return res
	}
	t.Run("probe", func(t *testing.T) { testProbe(t, hs, run) })
	t.Run("modules", func(t *testing.T) { testModules(t, hs, run, append(mods, fixture), sidecars) })
	t.Run("ansible-doc", func(t *testing.T) { testAnsibleDoc(t, ctx, lib, append(mods, fixture), sidecars) })
}

type runFunc func(t *testing.T, p playbook.Params) *playbook.Result

// testProbe: normal mode writes each host's own file, a second run changes nothing, --check
// changes nothing, --diff shows the change it makes.
func testProbe(t *testing.T, hs *nethost.Hosts, run runFunc) {
	const task, file = "Probe | write the marker", "/etc/cni/net.d/probe"
	probe := func(version string, check, diff bool) *playbook.Result {
		return run(t, playbook.Params{Playbook: "e2e/ansible/testdata/probe.yml",
			ExtraVars: map[string]any{"probe_version": version}, Check: check, Diff: diff})
	}
	wantFiles := func(stage, version string) {
		t.Helper()
		for _, h := range hs.List() {
			b, err := os.ReadFile(h.Path(file))
			if want := h.Name + ":" + version + "\n"; err != nil || string(b) != want {
				t.Errorf("%s: %s on %s = %q (%v), want %q", stage, file, h.Name, b, err, want)
			}
		}
		if _, err := os.Stat(file); err == nil {
			t.Errorf("%s: %s appeared on the machine itself, outside the node hosts", stage, file)
		}
	}
	wantStatus := func(stage string, res *playbook.Result, status string) {
		t.Helper()
		for _, h := range hs.List() {
			if hr, ok := res.HostResult(task, h.Name); !ok || hr.Status != status {
				t.Errorf("%s on %s: status %q (reported: %v) msg %q, want %s", stage, h.Name, hr.Status, ok, hr.Msg(), status)
			}
		}
	}

	res := probe("v1", false, false)
	wantStatus("first run", res, "changed")
	wantFiles("first run", "v1")

	res = probe("v1", false, false)
	wantStatus("second run", res, "ok")
	if tot := res.Totals(); tot.Changed != 0 || tot.OK == 0 {
		t.Errorf("second run recap %s, want changed=0", tot)
	}

	res = probe("v2", true, false)
	wantStatus("--check", res, "changed")
	wantFiles("--check (nothing written)", "v1")

	res = probe("v2", false, true)
	wantStatus("--diff", res, "changed")
	wantFiles("--diff", "v2")
	for _, h := range hs.List() {
		hr, _ := res.HostResult(task, h.Name)
		d, _ := hr.Result["diff"].(map[string]any)
		if d["before"] != h.Name+":v1\n" || d["after"] != h.Name+":v2\n" || d["after_header"] != file {
			t.Errorf("--diff on %s: diff = %v", h.Name, hr.Result["diff"])
		}
	}
}

// testModules runs every module's generated cases in normal mode, then the valid calls again under
// --check and --diff, and checks what Ansible reported on each host.
func testModules(t *testing.T, hs *nethost.Hosts, run runFunc, mods []string, sidecars map[string]string) {
	overrides, err := readOverrides("testdata/module-args.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []testCase
	for _, m := range mods {
		doc, err := readSidecar(m, sidecars[m])
		if err != nil {
			t.Fatal(err)
		}
		var ov *override
		if o, ok := overrides[m]; ok {
			ov = &o
		}
		cs, notes := casesFor(doc, ov)
		cases = append(cases, cs...)
		for _, n := range notes {
			t.Log(n)
		}
	}
	pb := filepath.Join(t.TempDir(), "modules.yml")
	if err := renderPlaybook("testdata/modules.yml.tmpl", pb, cases); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name        string
		check, diff bool
		tags        []string
	}{{"normal", false, false, nil}, {"--check", true, false, []string{"modes"}}, {"--diff", false, true, []string{"modes"}}} {
		t.Run(mode.name, func(t *testing.T) {
			res := run(t, playbook.Params{Playbook: pb, Check: mode.check, Diff: mode.diff, Tags: mode.tags})
			for _, c := range cases {
				switch {
				case c.Modes:
					for _, h := range hs.List() {
						checkCase(t, res, c, h.Name, mode.check)
					}
				case mode.tags == nil: // bad arguments: run_once, on the play's first host
					checkCase(t, res, c, hs.List()[0].Name, false)
				}
			}
		})
	}
}

// checkCase asserts one case's result on one host: the module ran there and answered with
// protocol-correct JSON (its invocation echoed), failed or not as expected, with the expected msg.
func checkCase(t *testing.T, res *playbook.Result, c testCase, host string, check bool) {
	t.Helper()
	hr, ok := res.HostResult(c.Task, host)
	switch {
	case !ok:
		t.Errorf("%s on %s: no result reported", c.Task, host)
		return
	case hr.Status == "unreachable":
		t.Errorf("%s on %s: unreachable: %s", c.Task, host, hr.Msg())
		return
	case check && hr.Skipped():
		t.Errorf("%s on %s: skipped under --check (%s): the module must support check mode", c.Task, host, hr.Msg())
	}
	if hr.Failed() != c.WantFailed {
		t.Errorf("%s on %s: failed=%v, want %v (msg %q)", c.Task, host, hr.Failed(), c.WantFailed, hr.Msg())
	}
	for _, want := range c.WantMsg {
		if !strings.Contains(hr.Msg(), want) {
			t.Errorf("%s on %s: msg %q does not mention %q", c.Task, host, hr.Msg(), want)
		}
	}
	if _, ok := hr.Result["invocation"].(map[string]any); !ok {
		t.Errorf("%s on %s: no invocation in the result (not our module's JSON?): %v", c.Task, host, hr.Result)
	}
}

func renderPlaybook(tmplPath, out string, cases []testCase) error {
	tmpl, err := template.New(filepath.Base(tmplPath)).Funcs(template.FuncMap{
		"json": func(v any) (string, error) { b, err := json.Marshal(v); return string(b), err },
	}).ParseFiles(tmplPath)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, cases); err != nil {
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}
