# Versions of everything the lab builds or downloads from the Go module proxy. One place.
KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.8
KWOK_VERSION=v0.8.0
CILIUM_VERSION=v1.20.2
# Calico's v3 tags are not Go module versions; the proxy serves this v3.28.5-era snapshot.
CALICO_MODULE_VERSION=v1.11.0-cni-plugin.0.20250813170300-a0db560f0520
# The kind tier builds Calico's images from that snapshot, whose nested API module the proxy does
# not serve at the same commit: this is the nearest served version that compiles with it.
CALICO_API_VERSION=v0.0.0-20240708202104-e3f70b269c2c
# The kind tier (make e2e-kind): kind itself, and the node image's Debian suite.
KIND_VERSION=v0.33.0
# CoreDNS of the kind tier (built from its Go module).
COREDNS_VERSION=v1.15.0
