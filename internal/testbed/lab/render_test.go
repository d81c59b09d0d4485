package lab

import (
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestPlanNodes(t *testing.T) {
	t.Parallel()
	nodes := planNodes(1, 2, []string{"198.18.0.2", "198.18.0.3", "198.18.0.4"})
	want := []Node{
		{"k3s-server-0", RoleServer, "198.18.0.2", "10.42.0.0/24"},
		{"k3s-agent-0", RoleAgent, "198.18.0.3", "10.42.1.0/24"},
		{"k3s-agent-1", RoleAgent, "198.18.0.4", "10.42.2.0/24"},
	}
	for i := range want {
		if nodes[i] != want[i] {
			t.Errorf("node %d = %+v, want %+v", i, nodes[i], want[i])
		}
	}
	obj := nodeObject(nodes[0])
	for k, v := range map[string]string{
		"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true",
		"node.kubernetes.io/instance-type": "k3s", "kubernetes.io/hostname": "k3s-server-0",
	} {
		if obj.Labels[k] != v {
			t.Errorf("server label %s = %q, want %q", k, obj.Labels[k], v)
		}
	}
	if obj.Annotations["kwok.x-k8s.io/node"] != "fake" || obj.Annotations["k3s.io/internal-ip"] != "198.18.0.2" {
		t.Errorf("annotations %v", obj.Annotations)
	}
	if _, ok := nodeObject(nodes[1]).Labels["node-role.kubernetes.io/control-plane"]; ok {
		t.Error("agent carries the control-plane label")
	}
}

func TestInventoryLayout(t *testing.T) {
	t.Parallel()
	nodes := planNodes(1, 1, []string{"198.18.0.2", "198.18.0.3"})
	data, err := renderInventory("demo", nodes, "/w/kubeconfig", "198.18.0.1", 6443, "/w/id", "/w/known_hosts", "/w/cilium")
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		All struct {
			Children struct {
				K3s struct {
					Vars     map[string]any `json:"vars"`
					Children map[string]struct {
						Hosts map[string]map[string]any `json:"hosts"`
					} `json:"children"`
				} `json:"k3s_cluster"`
			} `json:"children"`
		} `json:"all"`
	}
	if err := yaml.Unmarshal(data, &inv); err != nil {
		t.Fatal(err)
	}
	k3s := inv.All.Children.K3s
	if k3s.Children["servers"].Hosts["k3s-server-0"]["ansible_host"] != "198.18.0.2" ||
		k3s.Children["agents"].Hosts["k3s-agent-0"]["ansible_host"] != "198.18.0.3" {
		t.Errorf("hosts not grouped as k3s_cluster → servers/agents:\n%s", data)
	}
	if k3s.Vars["k3s_kubeconfig"] != "/etc/rancher/k3s/k3s.yaml" || k3s.Vars["ansible_ssh_private_key_file"] != "/w/id" ||
		!strings.Contains(k3s.Vars["ansible_ssh_common_args"].(string), "UserKnownHostsFile=/w/known_hosts") {
		t.Errorf("vars: %v", k3s.Vars)
	}
}

func TestCalicoNetScript(t *testing.T) {
	t.Parallel()
	nodes := planNodes(1, 2, []string{"198.18.0.2", "198.18.0.3", "198.18.0.4"})
	s := calicoNetScript(nodes[1], nodes)
	for _, want := range []string{
		"ip link add vxlan.calico type vxlan id 4096 dstport 4789 local 198.18.0.3",
		"ip route add blackhole 10.42.1.0/26 proto bird",
		"ip route add 10.42.0.0/26 via 10.42.0.1 dev vxlan.calico onlink",
		"ipset add cali40all-vxlan-net 198.18.0.2/32",
		"-A FORWARD -m comment --comment \"cali:wUHhoiAYhphO9Mso\" -j cali-FORWARD",
		"*raw", "*mangle", "*nat", "*filter",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Contains(s, "ipip") || strings.Contains(s, "tunl0") {
		t.Error("script uses IPIP, which this kernel lacks")
	}
	if n := caliName("ns", "pod"); !regexp.MustCompile(`^cali[0-9a-f]{11}$`).MatchString(n) {
		t.Errorf("caliName = %q, want cali + 11 hex digits (15 characters)", n)
	}
}

func TestKwokctlConfig(t *testing.T) {
	t.Parallel()
	tl := &Tools{KubeApiserver: "/b/kube-apiserver", Kwok: "/b/kwok", Etcd: "/b/etcd", Kubectl: "/b/kubectl",
		KubeControllerManager: "/b/kcm", KubeScheduler: "/b/ks"}
	data, err := kwokctlConfig(tl, controlPlane{Port: 1234, ExtraSANs: []string{"198.18.0.1"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind    string         `json:"kind"`
		Options map[string]any `json:"options"`
		Patches []struct {
			Name      string `json:"name"`
			ExtraArgs []struct {
				Key, Value string
				Override   bool
			} `json:"extraArgs"`
		} `json:"componentsPatches"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	o := doc.Options
	if doc.Kind != "KwokctlConfiguration" || o["runtime"] != "binary" || o["kubeAdmission"] != true ||
		o["bindAddress"] != "127.0.0.1" || o["kubectlBinary"] != "/b/kubectl" || o["kubeVersion"] != "v1.36.3" {
		t.Errorf("options: %v", o)
	}
	args := map[string]string{}
	for _, a := range doc.Patches[0].ExtraArgs {
		args[a.Key] = a.Value
	}
	if doc.Patches[0].Name != "kube-apiserver" || args["service-cluster-ip-range"] != "10.43.0.0/16" ||
		args["anonymous-auth"] != "false" {
		t.Errorf("kube-apiserver patches: %v", args)
	}
	for _, p := range doc.Patches[1:] {
		if len(p.ExtraArgs) != 1 || p.ExtraArgs[0].Key != "leader-elect" || p.ExtraArgs[0].Value != "false" {
			t.Errorf("%s patches: %+v, want leader election off", p.Name, p.ExtraArgs)
		}
	}
	if len(doc.Patches) != 3 {
		t.Errorf("want patches for kube-apiserver, kube-controller-manager and kube-scheduler, got %d", len(doc.Patches))
	}
}

func TestSetAPIServerBind(t *testing.T) {
	t.Parallel()
	cfg := strings.Join([]string{
		"apiVersion: config.kwok.x-k8s.io/v1alpha1", "components:",
		"- args:", "  - --etcd-prefix=/registry", "  - --bind-address=127.0.0.1", "  name: kube-apiserver",
		"- args:", "  - --bind-address=127.0.0.1", "  name: kube-controller-manager",
		"componentsPatches:", "- extraArgs:", "  name: kube-apiserver", "kind: KwokctlConfiguration",
	}, "\n")
	out, err := setAPIServerBind(cfg, "198.18.3.1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "--bind-address=198.18.3.1") != 1 || strings.Count(out, "--bind-address=127.0.0.1") != 1 ||
		strings.Index(out, "198.18.3.1") > strings.Index(out, "name: kube-apiserver") {
		t.Errorf("only the kube-apiserver's bind address must move:\n%s", out)
	}
	if _, err := setAPIServerBind("components:\n- args:\n  name: kube-apiserver\n", "x"); err == nil {
		t.Error("a config without the apiserver's bind address must be an error, not a silent no-op")
	}
}
