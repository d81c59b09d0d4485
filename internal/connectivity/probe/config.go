package probe

import (
	"time"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// Probe groups, as the checks option names them.
const (
	GroupPodToPod     = "pod-to-pod"
	GroupPodToService = "pod-to-service"
	GroupDNS          = "dns"
	GroupExternal     = "pod-to-external"
	GroupPolicy       = "policy"
)

// Groups lists the probe groups in the order they run.
var Groups = []string{GroupPodToPod, GroupPodToService, GroupDNS, GroupExternal, GroupPolicy}

// Probe names as they appear in the result.
const (
	NameSameNode    = "pod-to-pod/same-node"
	NameCrossNode   = "pod-to-pod/cross-node"
	NameICMP        = "pod-to-pod/icmp"
	NameService     = "pod-to-service"
	NameDNSCluster  = "dns/cluster"
	NameDNSExternal = "dns/external"
	NameExternal    = "pod-to-external"
	NamePolicyDeny  = "policy/deny-ingress"
	NameThroughput  = "throughput/cross-node"
	NameSetup       = "probe-setup"
	NameCleanup     = "probe-cleanup"
)

// Images are the probe pods' images.
type Images struct {
	Client string `json:"client"`
	Echo   string `json:"echo"`
}

// Config is what the probe layer needs. Kube and Exec are consumer-side interfaces: tests pass
// a fake clientset and a fake executor.
type Config struct {
	Kube kubernetes.Interface
	Exec Executor
	// Groups enables probe groups by name (see Groups).
	Groups          map[string]bool
	Images          Images
	Samples         int
	ProbeTimeout    time.Duration
	Timeout         time.Duration // setup: pods ready
	CleanupTimeout  time.Duration
	PolicyGrace     time.Duration
	NodeSelector    map[string]string
	Tolerations     []corev1.Toleration
	ExternalTarget  string // "" skips pod-to-external
	ExternalDNSName string // "" skips dns/external
	Iperf3          bool
	IperfSeconds    int
	Keep            bool
	// Token is echoed by the preflight exec; "" picks a random one.
	Token string
}

// Outcome is what the probe layer did and found.
type Outcome struct {
	Entries   []result.Entry
	Namespace string
	// Objects lists every object created, as Kind/namespace/name.
	Objects []string
	Kept    bool
	Cleanup string
	// Notes are remarks for the user (nodes the probes skip, and why).
	Notes []string
}
