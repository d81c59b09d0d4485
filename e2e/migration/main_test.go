package migration

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"sigs.k8s.io/e2e-framework/pkg/envconf"

	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
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
	return library.Dir(t)
}
