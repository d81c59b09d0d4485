package defaults

import "time"

// Connectivity check (module connectivity_check). The images are widely used public test images
// that contain the tools the probes run; air-gapped users mirror them and set the images option.
const (
	// ConnectivityClientImage runs the probes: it ships curl (≥ 7.75, for %{exitcode}/%{errormsg}),
	// dig, ping and iperf3.
	ConnectivityClientImage = "docker.io/nicolaka/netshoot:v0.13"
	// ConnectivityEchoImage serves HTTP (agnhost netexec) for pod-to-pod and pod-to-Service probes.
	ConnectivityEchoImage = "registry.k8s.io/e2e-test-images/agnhost:2.53"

	ConnectivityNamespacePrefix = "cnimigrate-connectivity-"
	ConnectivityEchoPort        = 8080
	ConnectivityServicePort     = 80
	ConnectivityIperfPort       = 5201
	ConnectivityIperfSeconds    = 5
	ConnectivitySamples         = 10
	ConnectivityTimeout         = 5 * time.Minute
	ConnectivityProbeTimeout    = 5 * time.Second
	// ConnectivityCleanupTimeout bounds the wait for the test namespace to disappear.
	ConnectivityCleanupTimeout = 2 * time.Minute
	// ConnectivityPolicyGrace is how long a CNI gets to enforce a freshly applied NetworkPolicy.
	ConnectivityPolicyGrace = 20 * time.Second
	// ConnectivityExecSlack is added to each probe's exec deadline on top of samples × probe_timeout.
	ConnectivityExecSlack = 15 * time.Second
	// ConnectivityExternalTarget is contacted by the pod-to-external probe (from inside a pod).
	ConnectivityExternalTarget = "https://1.1.1.1"
	ConnectivityClusterDomain  = "cluster.local"
	// ConnectivityReportFormat marks result JSON files so a baseline of another format is refused.
	ConnectivityReportFormat = "cnimigrate.connectivity/v1"

	KwokNodeAnnotation = "kwok.x-k8s.io/node"
	CoreDNSNamespace   = "kube-system"
	CoreDNSService     = "kube-dns"
	CoreDNSDeployment  = "coredns"
	ManagedByLabel     = "app.kubernetes.io/managed-by"
	ManagedByValue     = "cnimigrate"
)
