package migration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/support/kind"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// The kind tier runs the same scenarios, playbooks and assertions against real kind clusters
// (real pods, real datapath). It needs a Docker engine and a registry the nodes can pull Calico's
// and Cilium's images from; where there is none it skips, saying so.

// newKindCluster creates a kind cluster from kind-configs/calico.yaml, installs Calico from its
// released manifests and writes an inventory that reaches the nodes through the docker connection.
func newKindCluster(ctx context.Context, t *testing.T, name, flavour string) (*cluster, error) {
	docker, err := lookTool("docker", "CNIMIGRATE_DOCKER")
	if err == nil {
		if out, derr := exec.CommandContext(ctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); derr != nil {
			err = fmt.Errorf("no Docker engine answers (docker info: %s)", firstLine(string(out)))
		}
	}
	if err != nil {
		t.Skipf("kind tier skipped: %v. Run `make e2e-kind` on a machine with a Docker engine and a registry", err)
	}
	kindPath, err := lookTool("kind", "CNIMIGRATE_KIND")
	if err != nil {
		t.Skipf("kind tier skipped: %v (install kind; the suite never downloads it)", err)
	}
	kubectl, err := lookTool("kubectl", "CNIMIGRATE_KUBECTL")
	if err != nil {
		t.Skipf("kind tier skipped: %v", err)
	}
	p := kind.NewProvider().WithName(name).WithPath(kindPath)
	c := &cluster{provider: p, flavour: flavour}
	kc, err := p.CreateWithConfig(ctx, filepath.Join(repoRoot(t), "kind-configs", "calico.yaml"))
	if err != nil {
		return c, fmt.Errorf("kind create: %w", err)
	}
	c.kubeconfig = kc
	if err := installCalicoOnKind(ctx, t, kubectl, kc, flavour); err != nil {
		return c, err
	}
	nodes, err := exec.CommandContext(ctx, kindPath, "get", "nodes", "--name", name).Output()
	if err != nil {
		return c, fmt.Errorf("kind get nodes: %w", err)
	}
	c.nodes = strings.Fields(string(nodes))
	c.isolate = func(ctx context.Context, node string) (func(context.Context) error, error) {
		// A paused node container answers nothing: the docker connection fails on it as SSH does
		// on a node that is down.
		if out, err := exec.CommandContext(ctx, docker, "pause", node).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("docker pause %s: %v: %s", node, err, out)
		}
		return func(ctx context.Context) error {
			if out, err := exec.CommandContext(ctx, docker, "unpause", node).CombinedOutput(); err != nil {
				return fmt.Errorf("docker unpause %s: %v: %s", node, err, out)
			}
			return nil
		}, nil
	}
	c.inventory, err = writeKindInventory(t.TempDir(), c.nodes)
	return c, err
}

// installCalicoOnKind applies Calico's released manifests (from the Calico snapshot the Go module
// proxy serves, like the lab) and waits for calico-node on every node. Our own wait, not the kind
// provider's: it waits for kindnet, which a cluster without the default CNI never gets.
func installCalicoOnKind(ctx context.Context, t *testing.T, kubectl, kubeconfig, flavour string) error {
	dir, err := calicoManifests(ctx)
	if err != nil {
		return err
	}
	apply := func(file string) error {
		out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", file).CombinedOutput()
		if err != nil {
			return fmt.Errorf("kubectl apply %s: %v: %s", filepath.Base(file), err, out)
		}
		return nil
	}
	ns := "kube-system"
	if flavour == "operator" {
		ns = "calico-system"
		for _, f := range []string{"tigera-operator.yaml", "custom-resources.yaml"} {
			if err := apply(filepath.Join(dir, f)); err != nil {
				return err
			}
		}
	} else if err := apply(filepath.Join(dir, "calico.yaml")); err != nil {
		return err
	}
	return wait.For(ctx, "calico-node ready on every kind node", 10*time.Minute, 5*time.Second,
		func(ctx context.Context) (bool, string, error) {
			out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "-n", ns,
				"rollout", "status", "daemonset/calico-node", "--timeout=1s").CombinedOutput()
			return err == nil, firstLine(string(out)), nil
		})
}

func calicoManifests(ctx context.Context) (string, error) {
	versions, err := os.ReadFile(filepath.Join("..", "..", "hack", "versions.sh"))
	if err != nil {
		return "", err
	}
	var version string
	for _, l := range strings.Split(string(versions), "\n") {
		if v, ok := strings.CutPrefix(l, "CALICO_MODULE_VERSION="); ok {
			version = strings.TrimSpace(v)
		}
	}
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", "github.com/projectcalico/calico@"+version).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download calico %s: %w", version, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download calico %s: %s %v", version, mod.Error, err)
	}
	return filepath.Join(mod.Dir, "manifests"), nil
}

// writeKindInventory reaches kind's node containers with community.docker.docker, the same groups
// as the lab's inventory, and points the roles at kind's admin kubeconfig on the control plane.
func writeKindInventory(dir string, nodes []string) (string, error) {
	servers, agents := map[string]any{}, map[string]any{}
	for _, n := range nodes {
		if strings.HasSuffix(n, "-control-plane") {
			servers[n] = map[string]any{"k3s_node_name": n}
		} else {
			agents[n] = map[string]any{"k3s_node_name": n}
		}
	}
	inv := map[string]any{"all": map[string]any{"children": map[string]any{"k3s_cluster": map[string]any{
		"vars": map[string]any{
			"ansible_connection":         "community.docker.docker",
			"ansible_python_interpreter": "auto_silent",
			"k3s_kubeconfig":             "/etc/kubernetes/admin.conf",
			"k3s_cluster_cidr":           "10.42.0.0/16",
			"k3s_service_cidr":           "10.43.0.0/16",
		},
		"children": map[string]any{"servers": map[string]any{"hosts": servers}, "agents": map[string]any{"hosts": agents}},
	}}}}
	data, err := yaml.Marshal(inv)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "inventory.yml")
	return path, os.WriteFile(path, data, 0o600)
}
