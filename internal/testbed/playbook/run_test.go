package playbook

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPrepare(t *testing.T) {
	tmp := t.TempDir()
	argv, env, err := prepare(Params{
		Dir: tmp, Inventory: "inv.yml", Playbook: "site.yml", Check: true, Diff: true,
		Tags: []string{"a", "b"}, Limit: "node-0", Verbosity: 2, ExtraVars: map[string]any{"x": 1},
		Library: []string{"/lib1", "/lib2"}, Env: map[string]string{"ANSIBLE_HOST_KEY_CHECKING": "False", "FOO": "bar"},
	}, tmp)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ansible-playbook", "-i", "inv.yml", "--check", "--diff", "--tags", "a,b", "--limit", "node-0",
		"-vv", "-e", "@" + filepath.Join(tmp, "extra-vars.json"), "site.yml"}
	if !slices.Equal(argv, want) {
		t.Errorf("argv = %q\nwant %q", argv, want)
	}
	for _, kv := range []string{"ANSIBLE_LIBRARY=/lib1:/lib2", "FOO=bar", "ANSIBLE_HOST_KEY_CHECKING=False",
		"ANSIBLE_CALLBACKS_ENABLED=" + callbackName} {
		if !slices.Contains(env, kv) {
			t.Errorf("env lacks %s", kv)
		}
	}
	if b, err := os.ReadFile(filepath.Join(tmp, "extra-vars.json")); err != nil || string(b) != `{"x":1}` {
		t.Errorf("extra vars file = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(tmp, "callbacks", callbackName+".py")); err != nil {
		t.Errorf("callback plugin not written: %v", err)
	}
}

func TestReadResults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	doc := `{"plays":[{"name":"p","tasks":[{"name":"t","action":"m","hosts":{
		"a":{"status":"failed","ignored":true,"result":{"msg":"boom","failed":true}},
		"b":{"status":"changed","ignored":false,"result":{"changed":true,"x":1}}}}]}],
		"stats":{"a":{"ok":1,"failures":0,"ignored":1},"b":{"ok":2,"changed":1}}}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := readResults(path, &res); err != nil {
		t.Fatal(err)
	}
	a, _ := res.HostResult("t", "a")
	b, _ := res.HostResult("t", "b")
	if !a.Failed() || !a.Ignored || a.Msg() != "boom" || !b.Changed() || b.Result["x"] != float64(1) {
		t.Errorf("host results a=%+v b=%+v", a, b)
	}
	if got := res.Totals(); got.OK != 3 || got.Changed != 1 || got.Ignored != 1 {
		t.Errorf("totals = %s", got)
	}
	if len(res.failures()) != 0 {
		t.Errorf("an ignored failure was listed as a failure: %v", res.failures())
	}
}

// TestIntegrationRunLocal runs real ansible-playbook against the controller (connection: local).
func TestIntegrationRunLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ansible-playbook; skipped under -short")
	}
	if _, err := exec.LookPath("ansible-playbook"); err != nil && os.Geteuid() != 0 {
		t.Skip("ansible-playbook is missing and installing it needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	base := Params{Dir: "testdata", Inventory: "inventory.yml", Playbook: "local.yml",
		ExtraVars: map[string]any{"greeting": "tests"}}

	res, err := Run(ctx, base)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	want := map[string]string{"Probe | ok": "ok", "Probe | changed": "changed",
		"Probe | failure ignored": "failed", "Probe | skipped": "skipped", "Probe | tagged": "ok"}
	for task, status := range want {
		if hr, ok := res.HostResult(task, "controller"); !ok || hr.Status != status {
			t.Errorf("%s: %+v (found %v), want status %s", task, hr, ok, status)
		}
	}
	if hr, _ := res.HostResult("Probe | ok", "controller"); hr.Msg() != "hello tests" {
		t.Errorf("extra vars not passed: msg %q", hr.Msg())
	}
	if hr, _ := res.HostResult("Probe | failure ignored", "controller"); !hr.Ignored || hr.Msg() != "expected failure" {
		t.Errorf("ignored failure: %+v", hr)
	}
	if s := res.Stats["controller"]; s.Changed != 1 || s.Failures != 0 || s.Ignored != 1 || s.Skipped != 2 {
		t.Errorf("recap = %s", s)
	}
	if !strings.Contains(res.Output, "PLAY RECAP") {
		t.Errorf("screen output lost: %q", tail(res.Output, 300))
	}

	tagged := base
	tagged.Tags = []string{"only"}
	if res, err := Run(ctx, tagged); err != nil || len(res.Tasks("Probe | ok")) != 0 || len(res.Tasks("Probe | tagged")) != 1 {
		t.Errorf("--tags only: err %v, tasks %+v", err, res)
	}

	failing := base
	failing.ExtraVars = map[string]any{"must_fail": true}
	res, err = Run(ctx, failing)
	if err == nil || res == nil || res.ExitCode != 2 || !strings.Contains(err.Error(), "asked to fail") {
		t.Errorf("failing play: err %v, result %+v; want exit 2 with the failure named", err, res)
	}

	broken := base
	broken.Playbook = "broken.yml"
	res, err = Run(ctx, broken)
	if err == nil || res != nil || !strings.Contains(err.Error(), "no_such_module_anywhere") {
		t.Errorf("broken playbook: err %v, result %v; want an error naming the bad module and no result", err, res)
	}
}
