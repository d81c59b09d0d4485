// Package probe is the datapath layer of the connectivity check. It deploys a short-lived
// namespace (an echo server spread across nodes, its Service, one client pod per node), runs each
// probe inside a client pod through pod exec (never the API server's pod proxy, never from the
// controller), parses what the tools printed and judges it against the outcome the probe declares
// it expects (success, refused, timeout), as cilium-cli's scenarios do.
//
// Latency is measured by the tools inside the pod (curl's time_connect, dig's query time, ping's
// rtt), not by timing exec round trips. Where exec cannot run real tools (kwok's fake nodes) every
// probe is skipped with "probes need real pods", never passed. Whatever it created is removed
// afterwards, also on failure or timeout, unless Keep is set.
package probe
