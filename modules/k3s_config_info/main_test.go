package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/ansible/ansibletest"
)

func TestSidecarMatchesSpec(t *testing.T) {
	ansibletest.CheckSidecar(t, spec)
}

// What Ansible prints at -v and callback plugins record: the watched flags with their files, never
// the tokens beside them, even when a later file breaks the run.
func TestReportsFlagsNotSecrets(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	unit := filepath.Join(dir, "k3s.service")
	files := map[string]string{
		config: "token: K10tok-secret::server:x\ndatastore-endpoint: mysql://k3s:db-secret@tcp(db:3306)/k3s\n" +
			"flannel-backend: none\n",
		unit: "[Service]\nExecStart=/usr/local/bin/k3s server '--agent-token=agent-secret' '--disable-network-policy'\n",
	}
	for p, body := range files {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := ansibletest.Run(t, spec, handle, map[string]any{"config_file": config, "unit_files": []string{unit}})
	if res["failed"] != false || res["changed"] != false {
		t.Fatalf("want ok, unchanged: %v", res)
	}
	flags := res["flags"].(map[string]any)
	if fb := flags["flannel-backend"].(map[string]any); fb["value"] != "none" || fb["source"] != config {
		t.Errorf("flannel-backend = %v", fb)
	}
	if np := flags["disable-network-policy"].(map[string]any); np["value"] != true || np["source"] != unit+" (ExecStart)" {
		t.Errorf("disable-network-policy = %v", np)
	}
	if !strings.Contains(res["msg"].(string), "disable-kube-proxy false (unset: K3s' default)") {
		t.Errorf("msg %q does not say disable-kube-proxy is unset", res["msg"])
	}
	assertNoSecret(t, res)

	// A broken drop-in fails the run; the secrets read before still stay out.
	if err := os.MkdirAll(config+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(config+".d", "10.yaml"), []byte("disable-kube-proxy: maybe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, _ = ansibletest.Run(t, spec, handle, map[string]any{"config_file": config, "unit_files": []string{unit}})
	if res["failed"] != true || !strings.Contains(res["msg"].(string), "10.yaml") {
		t.Fatalf("want a failure naming the drop-in: %v", res)
	}
	assertNoSecret(t, res)
}

func assertNoSecret(t *testing.T, res map[string]any) {
	t.Helper()
	b, _ := json.Marshal(res)
	for _, s := range []string{"tok-secret", "db-secret", "agent-secret"} {
		if strings.Contains(string(b), s) {
			t.Errorf("%s is in the result: %s", s, b)
		}
	}
}
