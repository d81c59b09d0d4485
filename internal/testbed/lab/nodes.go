package lab

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Role is a K3s node role.
type Role string

// The K3s node roles.
const (
	RoleServer Role = "server"
	RoleAgent  Role = "agent"
)

// Node is one lab node: a kwok Node object and (with Hosts) the node host whose address is IP.
type Node struct {
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	IP      string `json:"ip"`      // the Node's InternalIP = the node host's address
	PodCIDR string `json:"podCIDR"` // 10.42.<i>.0/24, as K3s' node IPAM hands them out
}

// k3sVersion is what the nodes report as kubelet version, like a K3s release of the same minor.
const k3sVersion = defaults.LabKubeVersion + "+k3s1"

// planNodes names the nodes the way K3s installs in our inventories do (k3s-server-<i>,
// k3s-agent-<i>), gives node i the pod CIDR 10.42.<i>.0/24 and the address ips[i].
func planNodes(servers, agents int, ips []string) []Node {
	nodes := make([]Node, 0, servers+agents)
	for i := 0; i < servers+agents; i++ {
		n := Node{Role: RoleServer, Name: fmt.Sprintf("k3s-server-%d", i)}
		if i >= servers {
			n.Role, n.Name = RoleAgent, fmt.Sprintf("k3s-agent-%d", i-servers)
		}
		n.IP = ips[i]
		n.PodCIDR = fmt.Sprintf("10.42.%d.0/24", i)
		nodes = append(nodes, n)
	}
	return nodes
}

// nodeObject renders a Node the way K3s registers it: labels, annotations, provider ID, pod CIDR,
// addresses and node info; kwok (annotation kwok.x-k8s.io/node=fake) keeps it Ready.
func nodeObject(n Node) *corev1.Node {
	labels := map[string]string{
		"beta.kubernetes.io/arch":          runtime.GOARCH,
		"beta.kubernetes.io/instance-type": "k3s",
		"beta.kubernetes.io/os":            "linux",
		"kubernetes.io/arch":               runtime.GOARCH,
		"kubernetes.io/hostname":           n.Name,
		"kubernetes.io/os":                 "linux",
		"node.kubernetes.io/instance-type": "k3s",
	}
	if n.Role == RoleServer {
		labels["node-role.kubernetes.io/control-plane"] = "true"
		labels["node-role.kubernetes.io/master"] = "true"
	}
	qty := func(s string) resource.Quantity { return resource.MustParse(s) }
	capacity := corev1.ResourceList{"cpu": qty("8"), "memory": qty("32Gi"), "pods": qty("110"), "ephemeral-storage": qty("100Gi")}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   n.Name,
			Labels: labels,
			Annotations: map[string]string{
				defaults.LabNodeFakeAnnotation: "fake",
				"k3s.io/hostname":              n.Name,
				"k3s.io/internal-ip":           n.IP,
				"k3s.io/node-args":             nodeArgs(n.Role),
				"node.alpha.kubernetes.io/ttl": "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: n.PodCIDR, PodCIDRs: []string{n.PodCIDR}, ProviderID: "k3s://" + n.Name},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.IP},
				{Type: corev1.NodeHostName, Address: n.Name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				Architecture: runtime.GOARCH, OperatingSystem: "linux", OSImage: "Ubuntu 24.04.2 LTS",
				KernelVersion: "6.8.0-generic", KubeletVersion: k3sVersion, KubeProxyVersion: k3sVersion,
				ContainerRuntimeVersion: "containerd://2.0.5-k3s1",
			},
		},
	}
}

// nodeArgs is K3s' k3s.io/node-args annotation for a cluster set up for Calico.
func nodeArgs(r Role) string {
	if r == RoleAgent {
		return `["agent"]`
	}
	return `["server","--flannel-backend","none","--disable-network-policy","--cluster-cidr","` +
		defaults.K3sClusterCIDR + `","--service-cidr","` + defaults.K3sServiceCIDR + `"]`
}

// createNodes creates the Node objects (or leaves existing ones alone).
func createNodes(ctx context.Context, kube kubernetes.Interface, nodes []Node) error {
	for _, n := range nodes {
		_, err := kube.CoreV1().Nodes().Create(ctx, nodeObject(n), metav1.CreateOptions{FieldManager: fieldManager})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", n.Name, err)
		}
	}
	return nil
}

// nodesReady reports whether every node is Ready and still carries its pod CIDR and InternalIP.
func nodesReady(ctx context.Context, kube kubernetes.Interface, nodes []Node) (bool, string, error) {
	list, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, "", err
	}
	byName := map[string]corev1.Node{}
	for _, n := range list.Items {
		byName[n.Name] = n
	}
	var notReady []string
	for _, want := range nodes {
		got, ok := byName[want.Name]
		if !ok || !isNodeReady(got) || got.Spec.PodCIDR != want.PodCIDR || internalIP(got) != want.IP {
			notReady = append(notReady, want.Name)
		}
	}
	if len(notReady) > 0 {
		return false, fmt.Sprintf("%d/%d nodes ready; not ready: %s", len(nodes)-len(notReady), len(nodes), strings.Join(head(notReady, 5), ", ")), nil
	}
	return true, fmt.Sprintf("%d/%d nodes ready", len(nodes), len(nodes)), nil
}

func isNodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func internalIP(n corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

func head(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
