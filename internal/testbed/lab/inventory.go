package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// InventoryName is the lab's Ansible inventory in its work dir.
const InventoryName = "inventory.yml"

// writeInventory writes the Ansible inventory: group k3s_cluster with children servers and agents
// (k3s-ansible's layout), each host's ansible_host, the harness' key and known_hosts, and the
// variables the roles read.
func (l *Lab) writeInventory(ctx context.Context) error {
	if l.hosts == nil {
		return nil
	}
	chart, err := ciliumChartDir(ctx, l.cfg.WorkDir)
	if err != nil {
		return err
	}
	data, err := renderInventory(l.cfg.Name, l.nodes, l.kubeconfig, l.cp.Host, l.cp.Port,
		l.hosts.KeyPath(), l.hosts.KnownHostsPath(), chart)
	if err != nil {
		return err
	}
	path := filepath.Join(l.cfg.WorkDir, InventoryName)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	l.inventory = path
	return nil
}

func renderInventory(name string, nodes []Node, kubeconfig, apiHost string, apiPort int, key, knownHosts, ciliumChart string) ([]byte, error) {
	groups := map[Role]map[string]any{RoleServer: {}, RoleAgent: {}}
	for _, n := range nodes {
		groups[n.Role][n.Name] = map[string]any{
			"ansible_host":  n.IP,
			"k3s_node_name": n.Name,
			"k3s_node_ip":   n.IP,
			"k3s_pod_cidr":  n.PodCIDR,
		}
	}
	vars := map[string]any{
		"ansible_user":                 "root",
		"ansible_connection":           "ssh",
		"ansible_ssh_private_key_file": key,
		"ansible_ssh_common_args": strings.Join([]string{
			"-o UserKnownHostsFile=" + knownHosts, "-o StrictHostKeyChecking=yes",
			"-o GlobalKnownHostsFile=/dev/null", "-o IdentitiesOnly=yes",
		}, " "),
		"ansible_python_interpreter": "/usr/bin/python3",
		// On the node hosts (servers): K3s' kubeconfig, pointing at the lab's API server.
		"k3s_kubeconfig":            defaults.K3sKubeconfig,
		"k3s_api_server_endpoint":   apiHost,
		"k3s_api_server_port":       apiPort,
		"k3s_cluster_cidr":          defaults.K3sClusterCIDR,
		"k3s_service_cidr":          defaults.K3sServiceCIDR,
		"k3s_containerd_config":     defaults.K3sContainerdTOML,
		"cnimigrate_lab":            name,
		"cnimigrate_lab_kubeconfig": kubeconfig, // the same, on the controller
		// What makes the lab a lab, for the roles. It is air-gapped: Cilium's chart is a local
		// directory (from the Cilium Go module zip). Its pods are simulated: no real Cilium agent
		// hands out addresses or CiliumEndpoints, so the live strategy's "restart what is not yet on
		// Cilium" would never settle; it restarts every workload instead. Probes need real pods: verify with the API-only
		// health checks (the kind tier runs the probes). Its Calico policies deliberately include
		// constructs Cilium cannot express: migrate anyway and list them in the report.
		"cilium_chart_ref":              ciliumChart,
		"workload_restart_strategy":     "{{ 'all' if (cnimigrate_strategy | default('replace')) == 'live' else 'created_before' }}",
		"cni_verify_checks":             []string{"nodes", "cni-agent", "coredns", "sandbox-errors", "service-endpoints"},
		"cilium_policies_allow_partial": true,
		// The lab's bare pod (financial-inference/model-validation) is still on Calico when its
		// links are about to go; the roles stop there unless told what to do: evict it.
		"workload_restart_leftover_pods": "evict",
	}
	inv := map[string]any{"all": map[string]any{
		"children": map[string]any{
			"k3s_cluster": map[string]any{
				"vars": vars,
				"children": map[string]any{
					"servers": map[string]any{"hosts": groups[RoleServer]},
					"agents":  map[string]any{"hosts": groups[RoleAgent]},
				},
			},
		},
	}}
	data, err := yaml.Marshal(inv)
	if err != nil {
		return nil, fmt.Errorf("render inventory: %w", err)
	}
	return append([]byte("# Ansible inventory of cnimigrate lab "+name+" (removed by lab down).\n"), data...), nil
}
