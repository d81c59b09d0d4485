package cilium

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/cilium/ciliumtest"
)

// The role installs the chart the tests prove, not whatever a repository calls newest: its default
// chart version is the version of the tests' Cilium module, and so is an inventory's, if it sets one.
func TestRoleDefaultsPinTheTestedChart(t *testing.T) {
	t.Parallel()
	_, version, _ := strings.Cut(ciliumtest.Module, "@")
	tested := strings.TrimPrefix(version, "v")
	for _, file := range []string{
		"roles/cilium/defaults/main.yml",
		"inventory/development/group_vars/all.yml",
		"inventory/production/group_vars/all.yml",
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", file))
		must(t, err)
		var vars map[string]any
		must(t, yaml.Unmarshal(raw, &vars))
		got, set := vars["cilium_chart_version"]
		if !set && strings.HasPrefix(file, "inventory/") {
			continue // the role's default applies
		}
		if got != tested {
			t.Errorf("%s: cilium_chart_version = %q, want the tested chart %q (%s)", file, got, tested, ciliumtest.Module)
		}
	}
}
