package probe

import (
	"fmt"
	"net"
	"strconv"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

type probeKind int

const (
	kindHTTP probeKind = iota
	kindDNS
	kindICMP
	kindIperf
)

var kindTool = map[probeKind]string{kindHTTP: "curl", kindDNS: "dig", kindICMP: "ping", kindIperf: "iperf3"}

// spec is one planned probe: the scenario, its source and destination, and the outcome it expects.
type spec struct {
	name   string
	kind   probeKind
	src    Pod
	dst    result.Endpoint
	target string // URL, DNS name or address
	want   string // DNS: the address the answer must contain
	expect Expectation
	skip   string // reason it cannot run
}

// plannedTopology stands in for the pods before they exist (check mode, failed setup): one client
// and one echo server per node, names unknown.
func plannedTopology(ns string, nodes []string) topology {
	t := topology{Namespace: ns}
	for _, n := range nodes {
		t.Clients = append(t.Clients, Pod{Node: n})
		t.Echoes = append(t.Echoes, Pod{Node: n})
	}
	return t
}

func echoURL(ip string) string {
	return "http://" + net.JoinHostPort(ip, strconv.Itoa(defaults.ConnectivityEchoPort)) + "/"
}

// echoTargets returns the echo server on the client's node and one on another node (the next
// node in order, so that with echo servers everywhere every node is a destination once).
func echoTargets(c Pod, echoes []Pod) (same, cross *Pod) {
	start := 0
	for i := range echoes {
		if echoes[i].Node == c.Node {
			same = &echoes[i]
			start = i
			break
		}
		if echoes[i].Node < c.Node {
			start = i + 1
		}
	}
	for k := 0; k < len(echoes); k++ {
		e := &echoes[(start+k)%len(echoes)]
		if e.Node != c.Node {
			return same, e
		}
	}
	return same, nil
}

func podEndpoint(p *Pod) result.Endpoint {
	return result.Endpoint{Node: p.Node, Pod: p.Name, Address: p.IP}
}

// planProbes lists the probes of every enabled group except policy, client by client.
func planProbes(cfg Config, t topology) []spec {
	var out []spec
	for _, c := range t.Clients {
		same, cross := echoTargets(c, t.Echoes)
		if cfg.Groups[GroupPodToPod] {
			out = append(out, echoProbe(NameSameNode, kindHTTP, c, same, "no echo server runs on node "+c.Node))
			out = append(out, echoProbe(NameCrossNode, kindHTTP, c, cross, "needs a second node with an echo server"))
			out = append(out, echoProbe(NameICMP, kindICMP, c, cross, "needs a second node with an echo server"))
		}
		if cfg.Groups[GroupPodToService] {
			out = append(out, spec{name: NameService, kind: kindHTTP, src: c, expect: ExpectSuccess,
				dst:    result.Endpoint{Address: "Service " + echoName + " " + t.ServiceIP},
				target: "http://" + net.JoinHostPort(t.ServiceIP, strconv.Itoa(defaults.ConnectivityServicePort)) + "/"})
		}
		if cfg.Groups[GroupDNS] {
			out = append(out, dnsProbes(cfg, t, c)...)
		}
		if cfg.Groups[GroupExternal] {
			s := spec{name: NameExternal, kind: kindHTTP, src: c, expect: ExpectSuccess,
				dst: result.Endpoint{Address: cfg.ExternalTarget}, target: cfg.ExternalTarget}
			if cfg.ExternalTarget == "" {
				s.skip = "external_target is empty (air-gapped cluster)"
			}
			out = append(out, s)
		}
		if cfg.Iperf3 {
			out = append(out, echoProbe(NameThroughput, kindIperf, c, cross, "needs a second node with an echo server"))
		}
	}
	return out
}

func echoProbe(name string, kind probeKind, c Pod, dst *Pod, noDst string) spec {
	s := spec{name: name, kind: kind, src: c, expect: ExpectSuccess}
	if dst == nil {
		s.skip = noDst
		return s
	}
	s.dst = podEndpoint(dst)
	s.target = dst.IP
	if kind == kindHTTP {
		s.target = echoURL(dst.IP)
	}
	return s
}

func dnsProbes(cfg Config, t topology, c Pod) []spec {
	// Fully qualified (trailing dot): the answer must not depend on the search list.
	name := fmt.Sprintf("%s.%s.svc.%s.", echoName, t.Namespace, clusterDomain(t))
	cluster := spec{name: NameDNSCluster, kind: kindDNS, src: c, expect: ExpectSuccess,
		dst: result.Endpoint{Address: name}, target: name, want: t.ServiceIP}
	ext := spec{name: NameDNSExternal, kind: kindDNS, src: c, expect: ExpectSuccess,
		dst: result.Endpoint{Address: cfg.ExternalDNSName}, target: cfg.ExternalDNSName}
	if cfg.ExternalDNSName == "" {
		ext.skip = "external_dns_name is not set"
	}
	return []spec{cluster, ext}
}

// planPolicy lists one deny probe per client, towards the echo server on another node if there is
// one (else on its own node).
func planPolicy(cfg Config, t topology) []spec {
	if !cfg.Groups[GroupPolicy] {
		return nil
	}
	var out []spec
	for _, c := range t.Clients {
		same, cross := echoTargets(c, t.Echoes)
		dst := cross
		if dst == nil {
			dst = same
		}
		s := echoProbe(NamePolicyDeny, kindHTTP, c, dst, "no echo server to deny")
		s.expect = ExpectBlocked
		out = append(out, s)
	}
	return out
}

func clusterDomain(t topology) string {
	if t.clusterDomain != "" {
		return t.clusterDomain
	}
	return defaults.ConnectivityClusterDomain
}

// skipAll turns planned probes into skipped entries with one reason.
func skipAll(specs []spec, reason string) []result.Entry {
	out := make([]result.Entry, 0, len(specs))
	for _, s := range specs {
		e := entryFor(s)
		e.Status, e.Reason = result.Skipped, reason
		if s.skip != "" {
			e.Reason = s.skip
		}
		out = append(out, e)
	}
	return out
}

func entryFor(s spec) result.Entry {
	src := podEndpoint(&s.src)
	e := result.Entry{Name: s.name, Layer: result.LayerProbes, Source: &src, Expected: s.expect.String()}
	if s.dst != (result.Endpoint{}) {
		dst := s.dst
		e.Destination = &dst
	}
	return e
}
