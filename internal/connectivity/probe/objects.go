package probe

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Object names inside the test namespace.
const (
	echoName      = "echo"
	clientName    = "client"
	policyName    = "deny-echo-ingress"
	echoContainer = "echo"
	iperfName     = "iperf3"
	clientCtr     = "client"
	appLabel      = "app.kubernetes.io/name"
	partOfLabel   = "app.kubernetes.io/part-of"
	partOfValue   = "cnimigrate-connectivity"
	hostnameKey   = "kubernetes.io/hostname"
)

// clientCommand keeps the client container alive and lets it stop at once on TERM.
var clientCommand = []string{"sh", "-c", "trap 'exit 0' TERM; while true; do sleep 3600 & wait $!; done"}

func commonLabels(name string) map[string]string {
	return map[string]string{appLabel: name, partOfLabel: partOfValue, defaults.ManagedByLabel: defaults.ManagedByValue}
}

func selectorLabels(name string) map[string]string {
	return map[string]string{appLabel: name, partOfLabel: partOfValue}
}

func namespaceObject() *corev1.Namespace {
	l := commonLabels("connectivity-check")
	// Baseline admits root containers with default capabilities (ping needs NET_RAW).
	l["pod-security.kubernetes.io/enforce"] = "baseline"
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: defaults.ConnectivityNamespacePrefix, Labels: l}}
}

// podSpec is what echo and client pods share: placement on the selected nodes, tolerations,
// no service account token, fast termination.
func podSpec(cfg Config, nodes []string) corev1.PodSpec {
	grace := int64(1)
	no := false
	return corev1.PodSpec{
		NodeSelector: cfg.NodeSelector,
		Tolerations:  cfg.Tolerations,
		Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: nodeTerms(nodes)},
		}},
		TerminationGracePeriodSeconds: &grace,
		AutomountServiceAccountToken:  &no,
		EnableServiceLinks:            &no,
	}
}

// nodeTerms pins pods to the selected nodes by name: one term per node (terms are ORed; the API
// allows a single value per metadata.name field requirement).
func nodeTerms(nodes []string) []corev1.NodeSelectorTerm {
	terms := make([]corev1.NodeSelectorTerm, len(nodes))
	for i, n := range nodes {
		terms[i] = corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{n}}}}
	}
	return terms
}

func smallResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
	}}
}

// echoDeployment runs one echo server per node (required anti-affinity spreads them).
func echoDeployment(cfg Config, nodes []string) *appsv1.Deployment {
	replicas := int32(len(nodes))
	spec := podSpec(cfg, nodes)
	spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: selectorLabels(echoName)}, TopologyKey: hostnameKey,
		}},
	}
	port := int32(defaults.ConnectivityEchoPort)
	spec.Containers = []corev1.Container{{
		Name: echoContainer, Image: cfg.Images.Echo,
		Args:      []string{"netexec", "--http-port=" + strconv.Itoa(defaults.ConnectivityEchoPort)},
		Ports:     []corev1.ContainerPort{{Name: "http", ContainerPort: port}},
		Resources: smallResources(),
		ReadinessProbe: &corev1.Probe{PeriodSeconds: 2, ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(port)},
		}},
	}}
	if cfg.Iperf3 {
		spec.Containers = append(spec.Containers, corev1.Container{
			Name: iperfName, Image: cfg.Images.Client, Command: IperfServerArgs(), Resources: smallResources(),
			Ports: []corev1.ContainerPort{{Name: iperfName, ContainerPort: defaults.ConnectivityIperfPort}},
		})
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: echoName, Labels: commonLabels(echoName)},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(echoName)},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: commonLabels(echoName)}, Spec: spec},
		},
	}
}

// clientDaemonSet runs one client pod on each selected node.
func clientDaemonSet(cfg Config, nodes []string) *appsv1.DaemonSet {
	spec := podSpec(cfg, nodes)
	spec.Containers = []corev1.Container{{
		Name: clientCtr, Image: cfg.Images.Client, Command: clientCommand, Resources: smallResources(),
	}}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: clientName, Labels: commonLabels(clientName)},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: selectorLabels(clientName)},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: commonLabels(clientName)}, Spec: spec},
		},
	}
}

func echoService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: echoName, Labels: commonLabels(echoName)},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selectorLabels(echoName),
			Ports: []corev1.ServicePort{{Name: "http", Port: defaults.ConnectivityServicePort,
				TargetPort: intstr.FromInt32(defaults.ConnectivityEchoPort)}},
		},
	}
}

// denyPolicy selects the echo pods and allows no ingress at all.
func denyPolicy() *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: policyName, Labels: commonLabels(policyName)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selectorLabels(echoName)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
}
