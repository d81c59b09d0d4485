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
// (real pods, real datapath). `make e2e-kind` (hack/e2e-kind.sh) starts a Docker engine when none
// answers, builds the tier's images once (hack/kind/images.sh) and passes them here through
// CNIMIGRATE_* variables. Run any other way, a missing piece fails the test and names itself:
// the tier never skips.

// kindTier is what the tier needs from its environment.
type kindTier struct {
	docker, kind, kubectl string
	nodeImage             string
	images                []string // loaded into every node: Calico, Cilium, probes
	probeImage            string
}

func kindEnv(ctx context.Context, t *testing.T) kindTier {
	t.Helper()
	var k kindTier
	var err error
	need := func(name, env string) string {
		p, e := lookTool(name, env)
		if e != nil && err == nil {
			err = e
		}
		return p
	}
	k.docker, k.kind, k.kubectl = need("docker", "CNIMIGRATE_DOCKER"), need("kind", "CNIMIGRATE_KIND"), need("kubectl", "CNIMIGRATE_KUBECTL")
	if err != nil {
		t.Fatalf("kind tier: %v. Run it with `make e2e-kind`, which builds and passes every tool", err)
	}
	if out, err := exec.CommandContext(ctx, k.docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("kind tier: no Docker engine answers (docker info: %s). `make e2e-kind` starts one", firstLine(string(out)))
	}
	k.nodeImage, k.probeImage = os.Getenv("CNIMIGRATE_KIND_NODE_IMAGE"), os.Getenv("CNIMIGRATE_PROBE_IMAGE")
	k.images = append(strings.Fields(os.Getenv("CNIMIGRATE_CALICO_IMAGES")), strings.Fields(os.Getenv("CNIMIGRATE_CILIUM_IMAGES"))...)
	if k.nodeImage == "" || k.probeImage == "" || len(k.images) == 0 {
		t.Fatal("kind tier: the images are not named (CNIMIGRATE_KIND_NODE_IMAGE, _PROBE_IMAGE, _CALICO_IMAGES, _CILIUM_IMAGES). " +
			"`make e2e-kind` builds them (hack/kind/images.sh) and sets them")
	}
	k.images = append(k.images, k.probeImage)
	return k
}

// newKindCluster creates a kind cluster from kind-configs/calico.yaml on the tier's node image,
// loads the tier's images into its nodes, installs Calico (VXLAN) from its released manifest and
// writes an inventory that reaches the nodes over SSH, as the production inventory does.
func newKindCluster(ctx context.Context, t *testing.T, name, flavour string) (*cluster, error) {
	if flavour != "manifest" {
		t.Fatalf("kind tier: Calico flavour %q: only the manifest flavour runs on kind (the tigera operator's module is not served)", flavour)
	}
	k := kindEnv(ctx, t)
	p := kind.NewProvider().WithName(name).WithOpts(kind.WithPath(k.kind), kind.WithImage(k.nodeImage))
	c := &cluster{provider: p, flavour: flavour}
	kc, err := p.CreateWithConfig(ctx, filepath.Join(repoRoot(t), "kind-configs", "calico.yaml"))
	if err != nil {
		return c, fmt.Errorf("kind create: %w", err)
	}
	c.kubeconfig = kc
	out, err := exec.CommandContext(ctx, k.kind, "get", "nodes", "--name", name).Output()
	if err != nil {
		return c, fmt.Errorf("kind get nodes: %w", err)
	}
	c.nodes = strings.Fields(string(out))
	if out, err := exec.CommandContext(ctx, k.kind, append([]string{"load", "docker-image", "--name", name}, k.images...)...).CombinedOutput(); err != nil {
		return c, fmt.Errorf("kind load docker-image: %v: %s", err, out)
	}
	c.kubectl = k.kubectl
	if err := installCalicoOnKind(ctx, k.kubectl, kc); err != nil {
		return c, err
	}
	if err := startKindWorkloads(ctx, k, kc, repoRoot(t)); err != nil {
		return c, err
	}
	nodes, err := sshIntoKindNodes(ctx, k.docker, t.TempDir(), c.nodes)
	if err != nil {
		return c, err
	}
	chart, err := copyCiliumChart(ctx, k.docker, c.nodes)
	if err != nil {
		return c, err
	}
	c.isolate = func(ctx context.Context, node string) (func(context.Context) error, error) {
		return rejectSSH(ctx, nodes.ips[node])
	}
	c.inventory, err = writeKindInventory(t.TempDir(), nodes, k.probeImage, chart)
	return c, err
}

// startKindWorkloads runs the lab's workloads and Calico policies as real containers, and the
// disruption prober, and checks that Calico enforces the policies the tier checks after the
// migration (the same pairs, the same verdicts: a pair that Calico does not enforce proves nothing).
func startKindWorkloads(ctx context.Context, k kindTier, kubeconfig, root string) error {
	wl, err := kindWorkloads(root, k.probeImage)
	if err != nil {
		return err
	}
	if err := kubectlApply(ctx, k.kubectl, kubeconfig, wl+"---\n"+proberManifests(k.probeImage)); err != nil {
		return fmt.Errorf("workloads: %w", err)
	}
	if err := waitPodsReady(ctx, k.kubectl, kubeconfig, "every pod of the workloads and the prober ready", 5*time.Minute); err != nil {
		return err
	}
	wrong, err := checkPolicyPairs(ctx, k.kubectl, kubeconfig)
	if err != nil {
		return err
	}
	if len(wrong) > 0 {
		return fmt.Errorf("through Calico, before the migration: %s", strings.Join(wrong, "; "))
	}
	return nil
}

// kindChartDir is where the suite puts Cilium's chart on the kind servers: the roles take a local
// chart directory, as on an air-gapped cluster (the lab does the same).
const kindChartDir = "/opt/cnimigrate/cilium-chart"

// copyCiliumChart copies the chart of the Cilium module (the version of hack/versions.sh) into every
// server node.
func copyCiliumChart(ctx context.Context, docker string, nodes []string) (string, error) {
	dir, err := moduleDir(ctx, "github.com/cilium/cilium", "CILIUM_VERSION")
	if err != nil {
		return "", err
	}
	for _, n := range nodes {
		if !strings.HasSuffix(n, "-control-plane") {
			continue
		}
		if out, err := exec.CommandContext(ctx, docker, "exec", n, "mkdir", "-p", filepath.Dir(kindChartDir)).CombinedOutput(); err != nil {
			return "", fmt.Errorf("mkdir on %s: %v: %s", n, err, out)
		}
		if out, err := exec.CommandContext(ctx, docker, "cp", filepath.Join(dir, "install", "kubernetes", "cilium"), n+":"+kindChartDir).CombinedOutput(); err != nil {
			return "", fmt.Errorf("copy Cilium's chart to %s: %v: %s", n, err, out)
		}
	}
	return kindChartDir, nil
}

// installCalicoOnKind applies Calico's released calico.yaml (from the Calico snapshot the Go
// module proxy serves, like the lab), edited for VXLAN, and waits for calico-node on every node.
// Our own wait, not the kind provider's: it waits for kindnet, which this cluster never gets.
func installCalicoOnKind(ctx context.Context, kubectl, kubeconfig string) error {
	dir, err := calicoManifests(ctx)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "calico.yaml"))
	if err != nil {
		return err
	}
	manifest, err := calicoVXLAN(string(raw), "10.42.0.0/16")
	if err != nil {
		return err
	}
	if err := kubectlApply(ctx, kubectl, kubeconfig, manifest); err != nil {
		return fmt.Errorf("calico.yaml (VXLAN): %w", err)
	}
	return wait.For(ctx, "calico-node ready on every kind node", 10*time.Minute, 5*time.Second,
		func(ctx context.Context) (bool, string, error) {
			out, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "-n", "kube-system",
				"rollout", "status", "daemonset/calico-node", "--timeout=1s").CombinedOutput()
			return err == nil, firstLine(string(out)), nil
		})
}

func calicoManifests(ctx context.Context) (string, error) {
	dir, err := moduleDir(ctx, "github.com/projectcalico/calico", "CALICO_MODULE_VERSION")
	return filepath.Join(dir, "manifests"), err
}

// moduleDir is the module cache's copy of a module at the version hack/versions.sh gives it.
func moduleDir(ctx context.Context, module, versionVar string) (string, error) {
	versions, err := os.ReadFile(filepath.Join("..", "..", "hack", "versions.sh"))
	if err != nil {
		return "", err
	}
	var version string
	for _, l := range strings.Split(string(versions), "\n") {
		if v, ok := strings.CutPrefix(l, versionVar+"="); ok {
			version = strings.TrimSpace(v)
		}
	}
	if version == "" {
		return "", fmt.Errorf("hack/versions.sh has no %s", versionVar)
	}
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %w", module, version, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %s %v", module, version, mod.Error, err)
	}
	return mod.Dir, nil
}

// kindNodes is how the controller reaches the kind nodes over SSH.
type kindNodes struct {
	names          []string
	ips            map[string]string
	key, knownHost string
}

// sshIntoKindNodes authorises a fresh key for root on every node (each node's sshd has its own host
// keys, made at its first boot) and records their host keys: strict host-key checking, as in
// production. The nodes' addresses are on the kind network, a bridge of our own engine.
func sshIntoKindNodes(ctx context.Context, docker, dir string, names []string) (kindNodes, error) {
	n := kindNodes{names: names, ips: map[string]string{}, key: filepath.Join(dir, "id_ed25519"), knownHost: filepath.Join(dir, "known_hosts")}
	if out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", n.key).CombinedOutput(); err != nil {
		return n, fmt.Errorf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(n.key + ".pub")
	if err != nil {
		return n, err
	}
	var known strings.Builder
	for _, node := range names {
		ip, err := exec.CommandContext(ctx, docker, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", node).Output()
		if err != nil || strings.TrimSpace(string(ip)) == "" {
			return n, fmt.Errorf("address of kind node %s: %v", node, err)
		}
		n.ips[node] = strings.TrimSpace(string(ip))
		add := exec.CommandContext(ctx, docker, "exec", "-i", node, "sh", "-c",
			"mkdir -p -m 0700 /root/.ssh && cat >>/root/.ssh/authorized_keys && chmod 0600 /root/.ssh/authorized_keys")
		add.Stdin = strings.NewReader(string(pub))
		if out, err := add.CombinedOutput(); err != nil {
			return n, fmt.Errorf("authorise the controller's key on %s: %v: %s", node, err, out)
		}
		var hostKey []byte
		err = wait.For(ctx, "sshd host key on kind node "+node, time.Minute, time.Second, func(ctx context.Context) (bool, string, error) {
			hostKey, err = exec.CommandContext(ctx, docker, "exec", node, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").Output()
			return err == nil && len(hostKey) > 0, fmt.Sprint(err), nil
		})
		if err != nil {
			return n, err
		}
		f := strings.Fields(string(hostKey))
		fmt.Fprintf(&known, "%s %s %s\n", n.ips[node], f[0], f[1])
	}
	return n, os.WriteFile(n.knownHost, []byte(known.String()), 0o600)
}

// writeKindInventory reaches the kind nodes over SSH with the same groups as the lab's and the
// production inventory's, and points the roles at kubeadm's admin kubeconfig and containerd's
// config where kind puts them.
func writeKindInventory(dir string, n kindNodes, probeImage, chart string) (string, error) {
	servers, agents := map[string]any{}, map[string]any{}
	var apiHost string
	for _, name := range n.names {
		host := map[string]any{"ansible_host": n.ips[name], "k3s_node_name": name}
		if strings.HasSuffix(name, "-control-plane") {
			servers[name] = host
			apiHost = n.ips[name]
		} else {
			agents[name] = host
		}
	}
	images := map[string]any{"client": probeImage, "echo": probeImage}
	inv := map[string]any{"all": map[string]any{"children": map[string]any{"k3s_cluster": map[string]any{
		"vars": map[string]any{
			"ansible_user":                 "root",
			"ansible_ssh_private_key_file": n.key,
			"ansible_ssh_common_args":      "-o UserKnownHostsFile=" + n.knownHost + " -o StrictHostKeyChecking=yes",
			"ansible_python_interpreter":   "/usr/bin/python3",
			"k3s_kubeconfig":               "/etc/kubernetes/admin.conf",
			"k3s_containerd_config":        "/etc/containerd/config.toml",
			"k3s_cluster_cidr":             "10.42.0.0/16",
			"k3s_service_cidr":             "10.43.0.0/16",
			// connectivity_check's probe pods run the tier's own image (built here, loaded into
			// every node); nothing outside the machine is reachable, so no external probe.
			"cni_verify_images":            images,
			"cni_verify_external_target":   "",
			"cni_verify_external_dns_name": "",
			// After each node of a live migration: real probes too (Cilium enforces no policy
			// until the migration is finalized, so no policy probe then).
			"cni_node_verify_checks": []string{"health", "pod-to-pod", "pod-to-service", "dns"},
			"cni_node_verify_images": images,
			// Cilium from its module's chart, on the images the tier built (tags, not digests);
			// no Envoy (l7Proxy off) and no Hubble relay: their images are not built here.
			"cilium_chart_ref":        chart,
			"cilium_k8s_service_host": apiHost,
			"cilium_k8s_service_port": 6443,
			"cilium_hubble":           false,
			"cilium_values": map[string]any{
				"image":    map[string]any{"useDigest": false, "pullPolicy": "Never"},
				"operator": map[string]any{"image": map[string]any{"useDigest": false, "pullPolicy": "Never"}, "replicas": 1},
				"envoy":    map[string]any{"enabled": false},
				"l7Proxy":  false,
			},
			// The lab's Calico policies include constructs Cilium cannot express (the lab does the same).
			"cilium_policies_allow_partial": true,
			// The lab's bare pod (financial-inference/model-validation) cannot be recreated by a
			// controller: left on Calico, it would lose its network with Calico's links (the first
			// kind run showed it). The run stops before the node cleanup naming it; the operator's
			// explicit choice here: evict it (the report names it).
			"workload_restart_leftover_pods": "evict",
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
