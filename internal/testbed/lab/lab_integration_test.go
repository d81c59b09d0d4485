package lab_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
)

func TestIntegrationLabManifest(t *testing.T) { testLabFlavour(t, lab.CalicoManifest, "kube-system") }

func TestIntegrationLabOperator(t *testing.T) { testLabFlavour(t, lab.CalicoOperator, "calico-system") }

// testLabFlavour brings up a 3-node lab and checks what a user of the lab relies on, then that Down
// leaves nothing behind.
func testLabFlavour(t *testing.T, flavour lab.Calico, calicoNS string) {
	cfg := lab.Defaults()
	cfg.Calico = flavour
	l := labtest.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(l.RESTConfig())
	dyn := dynamic.NewForConfigOrDie(l.RESTConfig())

	t.Run("nodes", func(t *testing.T) { checkNodes(ctx, t, kube, l.Nodes()) })
	t.Run("calico", func(t *testing.T) { checkCalico(ctx, t, kube, dyn, calicoNS, len(l.Nodes())) })
	if flavour == lab.CalicoOperator {
		t.Run("operator", func(t *testing.T) { checkOperator(ctx, t, kube, dyn) })
	}
	t.Run("workloads", func(t *testing.T) { checkWorkloads(ctx, t, kube, l.Nodes()) })
	t.Run("kubectl", func(t *testing.T) {
		out := run(t, filepath.Join(l.Tools().Dir, "kubectl"), "--kubeconfig", l.Kubeconfig(), "get", "nodes", "-o", "name")
		if got := strings.Count(out, "node/k3s-"); got != 3 {
			t.Errorf("kubectl get nodes listed %d k3s nodes, want 3:\n%s", got, out)
		}
	})
	t.Run("ssh", func(t *testing.T) { checkSSH(t, l) })
	t.Run("API server on the gateway only", func(t *testing.T) {
		u, _ := url.Parse(l.Server())
		if !strings.HasPrefix(u.Hostname(), "198.18.") {
			t.Fatalf("API server %s is not on the node-host gateway", l.Server())
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", u.Port()), time.Second); err == nil {
			c.Close()
			t.Errorf("the API server also listens on 127.0.0.1:%s", u.Port())
		}
	})

	leftovers := snapshotOf(l)
	if err := l.Down(ctx); err != nil {
		t.Fatalf("Down: %v", err)
	}
	leftovers.assertGone(t)
	if err := l.Down(ctx); err != nil {
		t.Errorf("second Down (must be a no-op): %v", err)
	}
}

func checkNodes(ctx context.Context, t *testing.T, kube kubernetes.Interface, want []lab.Node) {
	if len(want) != 3 {
		t.Fatalf("lab has %d nodes, want 3 (1 server, 2 agents)", len(want))
	}
	for _, n := range want {
		got, err := kube.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node %s: %v", n.Name, err)
		}
		if got.Spec.PodCIDR != n.PodCIDR || !strings.HasPrefix(n.PodCIDR, "10.42.") {
			t.Errorf("node %s podCIDR %q, lab says %q (want 10.42.<i>.0/24)", n.Name, got.Spec.PodCIDR, n.PodCIDR)
		}
		var ip string
		for _, a := range got.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				ip = a.Address
			}
		}
		if ip != n.IP || !strings.HasPrefix(ip, "198.18.") {
			t.Errorf("node %s InternalIP %q, lab says %q", n.Name, ip, n.IP)
		}
		ready := false
		for _, c := range got.Status.Conditions {
			ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
		}
		if !ready {
			t.Errorf("node %s is not Ready", n.Name)
		}
		_, isServer := got.Labels["node-role.kubernetes.io/control-plane"]
		if isServer != (n.Role == lab.RoleServer) || got.Labels["node.kubernetes.io/instance-type"] != "k3s" {
			t.Errorf("node %s (%s) has labels %v", n.Name, n.Role, got.Labels)
		}
	}
}

func checkCalico(ctx context.Context, t *testing.T, kube kubernetes.Interface, dyn dynamic.Interface, ns string, nodes int) {
	ds, err := kube.AppsV1().DaemonSets(ns).Get(ctx, "calico-node", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("calico-node DaemonSet: %v", err)
	}
	s := ds.Status
	if int(s.DesiredNumberScheduled) != nodes || s.NumberReady != s.DesiredNumberScheduled {
		t.Errorf("calico-node: desired %d, ready %d; want both %d", s.DesiredNumberScheduled, s.NumberReady, nodes)
	}
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=calico-node"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items { // hostNetwork: the pod's IP is its node's InternalIP
		if p.Status.PodIP == "" || p.Status.PodIP != p.Status.HostIP {
			t.Errorf("calico-node pod %s on %s: IP %q, host IP %q", p.Name, p.Spec.NodeName, p.Status.PodIP, p.Status.HostIP)
		}
	}
	pool, err := dyn.Resource(schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: "ippools"}).
		Get(ctx, "default-ipv4-ippool", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("IPPool default-ipv4-ippool: %v", err)
	}
	spec, _ := pool.Object["spec"].(map[string]any)
	if spec["cidr"] != "10.42.0.0/16" || spec["vxlanMode"] != "Always" {
		t.Errorf("IPPool spec %v, want cidr 10.42.0.0/16 and vxlanMode Always", spec)
	}
	crds, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
		List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	calicoCRDs := 0
	for _, c := range crds.Items {
		if strings.HasSuffix(c.GetName(), ".crd.projectcalico.org") {
			calicoCRDs++
		}
	}
	if calicoCRDs < 15 {
		t.Errorf("%d crd.projectcalico.org CRDs, want the full set (≥15)", calicoCRDs)
	}
}

// checkOperator checks what makes operator installs hard to remove: the finalizers and owners.
func checkOperator(ctx context.Context, t *testing.T, kube kubernetes.Interface, dyn dynamic.Interface) {
	inst, err := dyn.Resource(schema.GroupVersionResource{Group: "operator.tigera.io", Version: "v1", Resource: "installations"}).
		Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Installation default: %v", err)
	}
	if f := inst.GetFinalizers(); len(f) != 1 || f[0] != "tigera.io/operator-cleanup" {
		t.Errorf("Installation finalizers %v, want [tigera.io/operator-cleanup]", f)
	}
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: "operator.tigera.io", Version: "v1", Resource: "apiservers"}).
		Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("APIServer default: %v", err)
	}
	sa, err := kube.CoreV1().ServiceAccounts("calico-system").Get(ctx, "calico-node", metav1.GetOptions{})
	if err != nil || len(sa.Finalizers) == 0 || sa.Finalizers[0] != "tigera.io/cni-protector" {
		t.Errorf("calico-system/calico-node ServiceAccount: %v, finalizers %v", err, sa.Finalizers)
	}
	ds, err := kube.AppsV1().DaemonSets("calico-system").Get(ctx, "calico-node", metav1.GetOptions{})
	if err != nil || len(ds.OwnerReferences) != 1 || ds.OwnerReferences[0].UID != inst.GetUID() {
		t.Errorf("calico-node DaemonSet is not controlled by the Installation: %v %v", err, ds.OwnerReferences)
	}
	if _, err := kube.AppsV1().Deployments("tigera-operator").Get(ctx, "tigera-operator", metav1.GetOptions{}); err != nil {
		t.Errorf("tigera-operator Deployment: %v", err)
	}
	if _, err := kube.AppsV1().DaemonSets("kube-system").Get(ctx, "calico-node", metav1.GetOptions{}); err == nil {
		t.Error("operator flavour also has the manifest's kube-system/calico-node")
	}
}

func checkWorkloads(ctx context.Context, t *testing.T, kube kubernetes.Interface, nodes []lab.Node) {
	svc, err := kube.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != "10.43.0.10" {
		t.Errorf("Service kube-dns: %v (clusterIP %v), want 10.43.0.10", err, svc.Spec.ClusterIP)
	}
	cidr := map[string]*net.IPNet{}
	for _, n := range nodes {
		_, c, _ := net.ParseCIDR(n.PodCIDR)
		cidr[n.Name] = c
	}
	for _, ns := range []string{"mlflow-system", "jupyter", "seldon-system", "financial-inference", "argo"} {
		pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ns != "argo" && len(pods.Items) == 0 {
			t.Errorf("namespace %s has no pods", ns)
		}
		for _, p := range pods.Items {
			c := cidr[p.Spec.NodeName]
			if p.Status.Phase != corev1.PodRunning || c == nil || !c.Contains(net.ParseIP(p.Status.PodIP)) {
				t.Errorf("pod %s/%s: phase %s, IP %q on node %s (pod CIDR %v)", ns, p.Name, p.Status.Phase, p.Status.PodIP, p.Spec.NodeName, c)
			}
		}
	}
}

// inventory is the part of the lab's inventory the SSH check uses.
type inventory struct {
	All struct {
		Children struct {
			K3sCluster struct {
				Vars     map[string]any `json:"vars"`
				Children map[string]struct {
					Hosts map[string]map[string]any `json:"hosts"`
				} `json:"children"`
			} `json:"k3s_cluster"`
		} `json:"children"`
	} `json:"all"`
}

func checkSSH(t *testing.T, l *lab.Lab) {
	data, err := os.ReadFile(l.InventoryPath())
	if err != nil {
		t.Fatal(err)
	}
	var inv inventory
	if err := yaml.Unmarshal(data, &inv); err != nil {
		t.Fatalf("inventory: %v", err)
	}
	k3s := inv.All.Children.K3sCluster
	key, _ := k3s.Vars["ansible_ssh_private_key_file"].(string)
	common, _ := k3s.Vars["ansible_ssh_common_args"].(string)
	seen := 0
	for group, g := range k3s.Children {
		for name, hv := range g.Hosts {
			seen++
			args := append([]string{"-i", key, "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"}, strings.Fields(common)...)
			args = append(args, "root@"+hv["ansible_host"].(string))
			conf := run(t, "ssh", append(args, "cat /etc/cni/net.d/10-calico.conflist")...)
			var conflist struct{ Plugins []map[string]any }
			if err := json.Unmarshal([]byte(conf), &conflist); err != nil || len(conflist.Plugins) == 0 || conflist.Plugins[0]["nodename"] != name {
				t.Errorf("%s: 10-calico.conflist over ssh: %v (nodename %v)\n%s", name, err, conflist.Plugins, conf)
			}
			net := run(t, "ssh", append(args, "ip -d link show vxlan.calico; iptables -t nat -S POSTROUTING; ipset list -n")...)
			for _, want := range []string{"vxlan id 4096", "-j cali-POSTROUTING", "cali40all-vxlan-net"} {
				if !strings.Contains(net, want) {
					t.Errorf("%s: Calico node state lacks %q:\n%s", name, want, net)
				}
			}
			if group == "servers" {
				kubectl := filepath.Join(l.Tools().Dir, "kubectl")
				out := run(t, "ssh", append(args, kubectl+" --kubeconfig /etc/rancher/k3s/k3s.yaml get node "+name+" -o name")...)
				if strings.TrimSpace(out) != "node/"+name {
					t.Errorf("%s: kubectl with k3s.yaml from the node host: %q", name, out)
				}
			}
		}
	}
	if seen != len(l.Nodes()) {
		t.Errorf("inventory has %d hosts, lab has %d nodes", seen, len(l.Nodes()))
	}
}

// run returns a command's stdout; stderr goes into the failure message only (ssh may print
// warnings there).
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("%s %s: stderr: %s", name, strings.Join(args, " "), stderr.String())
	}
	return string(out)
}
