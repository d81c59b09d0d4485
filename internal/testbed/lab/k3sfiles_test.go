package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/k3sconfig"
)

// The lab's nodes look like K3s nodes prepared for a CNI change, as the preflight reads them:
// flannel and K3s' network policy controller off on the servers, the inventory's cluster CIDR, and
// join tokens beside them (which the preflight must never show).
func TestK3sHostFilesPassThePreflight(t *testing.T) {
	t.Parallel()
	tok, err := newK3sTokens()
	if err != nil {
		t.Fatal(err)
	}
	nodes := planNodes(1, 1, []string{"198.18.0.2", "198.18.0.3"})
	for _, n := range nodes {
		root := t.TempDir()
		for _, f := range k3sHostFiles(n, nodes[0], tok) {
			p := filepath.Join(root, f.path)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := k3sconfig.Read(k3sconfig.Parameters{ConfigFile: filepath.Join(root, defaults.K3sConfigFile),
			UnitFiles: []string{filepath.Join(root, defaults.K3sServerUnit), filepath.Join(root, defaults.K3sAgentUnit)}})
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		if len(rep.Warnings) > 0 || string(n.Role) != rep.Command {
			t.Errorf("%s: command %q (role %s), warnings %q", n.Name, rep.Command, n.Role, rep.Warnings)
		}
		if !strings.Contains(strings.Join(rep.Secrets, " "), tok.agent) {
			t.Errorf("%s: no join token in its K3s config", n.Name)
		}
		if n.Role != RoleServer {
			continue
		}
		f := rep.Flags
		if f[k3sconfig.FlannelBackend].Value != "none" || f[k3sconfig.DisableNetworkPolicy].Value != true ||
			strings.Join(f[k3sconfig.ClusterCIDR].Value.([]string), ",") != defaults.K3sClusterCIDR {
			t.Errorf("%s: the preflight would refuse it: %+v", n.Name, f)
		}
	}
}
