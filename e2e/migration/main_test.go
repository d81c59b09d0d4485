package migration

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"sigs.k8s.io/e2e-framework/pkg/envconf"
)

var providerFlag = flag.String("provider", "lab",
	"where the suite runs: lab (the local offline cluster, default) or kind (needs a Docker engine and a registry)")

// suiteFlags are e2e-framework's flags (--labels, --skip-labels, --feature, --assess, --fail-fast,
// --dry-run …), applied to every scenario's own environment.
var suiteFlags *envconf.Config

func TestMain(m *testing.M) {
	cfg, err := envconf.NewFromFlags()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		os.Exit(2)
	}
	suiteFlags = cfg
	os.Exit(m.Run())
}

// repoRoot is the checkout this suite belongs to (playbooks, roles, library/).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// requireModules fails (not skips) when the module binaries were not built: `make test` builds them.
func requireModules(t *testing.T) string {
	t.Helper()
	lib := filepath.Join(repoRoot(t), "library")
	for _, m := range []string{"cilium_install", "calico_remove", "pod_restart", "connectivity_check", "migration_state", "k3s_config_info"} {
		if _, err := os.Stat(filepath.Join(lib, m)); err != nil {
			t.Fatalf("module binary library/%s is missing: run `make build` first (%v)", m, err)
		}
	}
	return lib
}
