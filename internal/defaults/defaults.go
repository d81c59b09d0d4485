// Package defaults holds the names, paths, selectors and timeouts every other package shares.
// Every knob has its default here, in one place.
package defaults

import "time"

// K3s paths and ranges.
const (
	K3sKubeconfig      = "/etc/rancher/k3s/k3s.yaml"
	K3sContainerdTOML  = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml"
	K3sClusterCIDR     = "10.42.0.0/16"
	K3sServiceCIDR     = "10.43.0.0/16"
	StandardCNIConfDir = "/etc/cni/net.d"
	StandardCNIBinDir  = "/opt/cni/bin"
	// K3s' config file (drop-ins in K3sConfigFile + ".d") and the systemd units of a server and an
	// agent, as K3s' install script writes them.
	K3sConfigFile = "/etc/rancher/k3s/config.yaml"
	K3sServerUnit = "/etc/systemd/system/k3s.service"
	K3sAgentUnit  = "/etc/systemd/system/k3s-agent.service"
)

// Client rate limits: above client-go's 5/10 so that parallel work is not throttled by the client.
const (
	ClientQPS   = 50
	ClientBurst = 100
	// APIRequestTimeout bounds every API request of the modules except watches, followed logs and
	// exec: a stuck API server fails the request, naming it, instead of hanging the module.
	APIRequestTimeout = time.Minute
)

// Cilium.
const (
	CiliumNamespace        = "kube-system"
	CiliumReleaseName      = "cilium"
	CiliumAgentDaemonSet   = "cilium"
	CiliumAgentSelector    = "k8s-app=cilium"
	CiliumOperatorName     = "cilium-operator"
	CiliumChartRepoURL     = "https://helm.cilium.io"
	CiliumMigrationPodCIDR = "10.245.0.0/16"
	CiliumMigrationPort    = 8473
	CiliumNodeConfigName   = "cilium-default"
	CiliumMigrationLabel   = "io.cilium.migration/cilium-default"
	CiliumConflist         = "05-cilium.conflist"
)

// Calico.
const (
	CalicoNamespace       = "kube-system"
	CalicoSystemNamespace = "calico-system"
	CalicoNodeDaemonSet   = "calico-node"
	CalicoNodeSelector    = "k8s-app=calico-node"
	CalicoVXLANPort       = 4789
	CalicoConflist        = "10-calico.conflist"
	CalicoCRDGroup        = "crd.projectcalico.org"
	TigeraOperatorGroup   = "operator.tigera.io"
	TigeraOperatorNS      = "tigera-operator"
	CalicoAPIServerNS     = "calico-apiserver"
	CalicoAPIServiceName  = "v3.projectcalico.org"
)

// Timeouts and polling.
const (
	DefaultTimeout   = 5 * time.Minute
	PollInterval     = 500 * time.Millisecond
	CoreDNSSelector  = "k8s-app=kube-dns"
	RestartedAtAnnot = "kubectl.kubernetes.io/restartedAt"
)

// MigrationStateConfigMap keeps the phase a migration reached, in the cluster, so a re-run resumes.
const (
	MigrationStateNamespace = "kube-system"
	MigrationStateConfigMap = "cnimigrate-state"
)

// MigrationLock is the Lease (in MigrationStateNamespace) a migration or rollback holds for its whole
// run, so that only one runs at a time; MigrationLockDuration is how long it stays valid after its
// holder last renewed it.
const (
	MigrationLock         = "cnimigrate"
	MigrationLockDuration = 3900 * time.Second
)

// The lab (internal/testbed/lab): versions must match hack/versions.sh (a unit test in internal/testbed/lab checks).
const (
	LabKubeVersion         = "v1.36.3"
	LabEtcdVersion         = "v3.6.8"
	LabKwokVersion         = "v0.8.0"
	LabCalicoModule        = "github.com/projectcalico/calico"
	LabCalicoModuleVersion = "v1.11.0-cni-plugin.0.20250813170300-a0db560f0520"
	LabCiliumModule        = "github.com/cilium/cilium"
	LabCiliumModuleVersion = "v1.20.2"
	LabDefaultServers      = 1
	LabDefaultAgents       = 2
	LabMaxNodes            = 250 // one /24 of node-host addresses, and one 10.42.<i>.0/24 each
	LabReadyTimeout        = 3 * time.Minute
	LabServiceDNSIP        = "10.43.0.10"
	LabNodeFakeAnnotation  = "kwok.x-k8s.io/node"
)

// pod_restart: recreate workload pods so they get addresses from the new CNI.
const (
	RestartParallelism    = 5                      // concurrent rollouts
	RestartTimeout        = 5 * time.Minute        // per workload; the article's `rollout status --timeout=300s`
	RestartTotalTimeout   = time.Hour              // whole run
	RestartPollInterval   = 100 * time.Millisecond // rollout checks read the watch cache, not the API
	EvictionRetryInterval = 2 * time.Second        // retry an eviction refused by a PodDisruptionBudget (429)
	CiliumConfigMap       = "cilium-config"
	CiliumClusterPoolKey  = "cluster-pool-ipv4-cidr"
	CiliumClusterPoolKey6 = "cluster-pool-ipv6-cidr"
	// RestartNamespacedWatchesMax: up to this many given namespaces are watched one by one; more
	// are served by one cluster-wide watch per resource.
	RestartNamespacedWatchesMax = 5
)

// cilium_install (Helm and the live-migration CiliumNodeConfig).
const (
	// CiliumChartName is the only chart cilium_install installs.
	CiliumChartName = "cilium"
	// HelmStorageDriver keeps releases as Secrets, like the helm CLI and cilium-cli.
	HelmStorageDriver = "secret"
	// HelmMaxHistory bounds the release revisions kept per release.
	HelmMaxHistory = 10
	// CiliumNodeConfigCRD is registered by cilium-operator at runtime, not by the chart.
	CiliumNodeConfigCRD = "ciliumnodeconfigs.cilium.io"
	// CiliumNodeConfigV2Minor is the first Cilium 1.x minor whose CiliumNodeConfig is cilium.io/v2.
	CiliumNodeConfigV2Minor = 16
	// CiliumCNIConfInAgent is where the agent writes the CNI config (host's conf dir mounted at /host).
	CiliumCNIConfInAgent = "/host/etc/cni/net.d/" + CiliumConflist
	// CiliumNonIdempotentLabel marks chart objects that are regenerated on every render (TLS certs).
	CiliumNonIdempotentLabel = "cilium.io/helm-template-non-idempotent"
	// CalicoAutodetectEnv / CalicoAutodetectK8s: manifest installs' node address autodetection.
	CalicoAutodetectEnv = "IP_AUTODETECTION_METHOD"
	CalicoAutodetectK8s = "kubernetes-internal-ip"
	// FlannelAnnotationPrefix marks nodes where flannel (K3s' default CNI) ran.
	FlannelAnnotationPrefix = "flannel.alpha.coreos.com/"
)

// K3s' own CNI dirs (used with embedded flannel; searched besides the standard dirs and whatever
// containerd's config names).
const (
	K3sCNIConfDir = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
	K3sCNIBinDir  = "/var/lib/rancher/k3s/data/cni"
)

// Live migration, per node (node_migrate).
const (
	// AgentRestartedAnnotation on a Node holds the UID of the Cilium agent pod node_migrate started
	// there, so a repeated agent_restarted step knows the restart already happened.
	AgentRestartedAnnotation = "cnimigrate.io/cilium-agent-restarted"
	MirrorPodAnnotation      = "kubernetes.io/config.mirror"
	NodeStepTimeout          = 5 * time.Minute
	// A drain retries an eviction refused by a PodDisruptionBudget (429) or a transient API error
	// (5xx, timeouts, lost connections) within its timeout, each pod waiting EvictionBackoffInitial,
	// then twice as long after every refusal, up to EvictionBackoffMax.
	EvictionBackoffInitial = time.Second
	EvictionBackoffMax     = 15 * time.Second
)

// HelmDesiredLabel is the release label cilium_install sets on the revisions it makes (revision
// number and a hash of chart and values): a no-op rerun recognizes its release from labels alone.
const HelmDesiredLabel = "cnimigrate.io/desired"
