package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible/ansibletest"
)

func TestSidecarMatchesSpec(t *testing.T) {
	ansibletest.CheckSidecar(t, spec)
}

// backup makes a backup dir holding copies of corpus files.
func backup(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("../../internal/policy/testdata/calico", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBackupToFileIdempotentWithCheckAndDiff(t *testing.T) {
	dir := backup(t, "01-allow-tcp-6379.yaml", "03-default-deny.yaml")
	dest := filepath.Join(t.TempDir(), "cilium.yaml")
	params := map[string]any{"source": "backup", "backup_dir": dir, "dest": dest,
		"_ansible_check_mode": true, "_ansible_diff": true}

	res, code := ansibletest.Run(t, spec, handle, params)
	if code != 0 || res["changed"] != true || res["diff"] == nil {
		t.Fatalf("check mode: want changed with a diff, got code %d %v", code, res)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("check mode wrote %s (stat: %v)", dest, err)
	}

	params["_ansible_check_mode"] = false
	res, code = ansibletest.Run(t, spec, handle, params)
	if code != 0 || res["changed"] != true {
		t.Fatalf("first run: want changed, got code %d %v", code, res)
	}
	written, err := os.ReadFile(dest)
	if err != nil || !bytes.Contains(written, []byte("name: calico-global-default-deny")) {
		t.Fatalf("dest does not hold the translation (err %v):\n%s", err, written)
	}
	if s := res["summary"].(map[string]any); s["policies"] != float64(4) || s["complete"] != float64(4) || s["objects"] != float64(4) {
		t.Errorf("summary = %v, want 4 policies, 4 complete, 4 objects", s)
	}

	res, code = ansibletest.Run(t, spec, handle, params)
	if code != 0 || res["changed"] != false || res["diff"] != nil {
		t.Fatalf("second run: want unchanged and no diff, got code %d %v", code, res)
	}
}

func TestUntranslatableFailsUnlessAllowPartial(t *testing.T) {
	dir := backup(t, "08-selector-expressions.yaml")
	dest := filepath.Join(t.TempDir(), "cilium.yaml")
	params := map[string]any{"source": "backup", "backup_dir": dir, "dest": dest}

	res, code := ansibletest.Run(t, spec, handle, params)
	msg, _ := res["msg"].(string)
	if code != 1 || res["failed"] != true || !strings.Contains(msg, "NetworkPolicy shop/prefix-match") {
		t.Fatalf("want a failure naming the policy, got code %d %v", code, res)
	}
	found := res["untranslatable"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["construct"] != "app starts with 'web-'" {
		t.Errorf("untranslatable = %v, want the starts with construct", found)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("a refused run wrote %s", dest)
	}

	params["allow_partial"] = true
	res, code = ansibletest.Run(t, spec, handle, params)
	if code != 0 || res["changed"] != true || res["warnings"] == nil {
		t.Fatalf("allow_partial: want changed with a warning, got code %d %v", code, res)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Fatalf("allow_partial did not write dest: %v", err)
	}
}

func TestBackupSourceNeedsBackupDir(t *testing.T) {
	res, code := ansibletest.Run(t, spec, handle, map[string]any{"source": "backup"})
	if code != 1 || !strings.Contains(res["msg"].(string), "backup_dir") {
		t.Fatalf("want a failure naming backup_dir, got code %d %v", code, res)
	}
}
