package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Normalised protocol names.
const (
	protoTCP    = "TCP"
	protoUDP    = "UDP"
	protoSCTP   = "SCTP"
	protoICMP   = "ICMP"
	protoICMPv6 = "ICMPv6"
)

var protocolNumbers = map[string]string{"6": protoTCP, "17": protoUDP, "132": protoSCTP, "1": protoICMP, "58": protoICMPv6}

// normalizeProtocol maps a Calico protocol (name in any case, or number) to the names above; the
// second result is false for protocols Cilium cannot match (UDPLite, other numbers).
func normalizeProtocol(p Protocol) (string, bool) {
	s := string(p)
	if n, ok := protocolNumbers[s]; ok {
		return n, true
	}
	for _, n := range []string{protoTCP, protoUDP, protoSCTP, protoICMP, protoICMPv6} {
		if strings.EqualFold(s, n) {
			return n, true
		}
	}
	return s, false
}

// portRange is a numeric range [from, to]; a named port has name set.
type portRange struct {
	from, to int
	name     string
}

// l4Match is what a rule matches at L4, for the overlap checks of rule order.
type l4Match struct {
	proto string      // "" for any protocol
	ports []portRange // nil for any port
}

// ianaName is the IANA service-name syntax Kubernetes port names follow.
var ianaName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$`)

func parsePort(p Port) (portRange, error) {
	s := string(p)
	if from, to, isRange := strings.Cut(s, ":"); isRange {
		a, errA := strconv.Atoi(from)
		b, errB := strconv.Atoi(to)
		if errA != nil || errB != nil || a < 1 || b > 65535 || a > b {
			return portRange{}, fmt.Errorf("not a port range between 1 and 65535")
		}
		return portRange{from: a, to: b}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 65535 {
			return portRange{}, fmt.Errorf("not a port between 1 and 65535")
		}
		return portRange{from: n, to: n}, nil
	}
	if !ianaName.MatchString(s) || !strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") {
		return portRange{}, fmt.Errorf("neither a port number, a range a:b nor a valid port name")
	}
	return portRange{name: s}, nil
}

func (r portRange) portProtocol(proto string) PortProtocol {
	if r.name != "" {
		return PortProtocol{Port: r.name, Protocol: proto}
	}
	pp := PortProtocol{Port: strconv.Itoa(r.from), Protocol: proto}
	if r.to != r.from {
		pp.EndPort = int32(r.to)
	}
	return pp
}

// l4 translates protocol, ports and ICMP of a rule; ok is false when something could not be.
func (c *policyCtx) l4(r Rule, loc ruleLoc) (L4, l4Match, bool) {
	ok := true
	fail := func(field, construct, reason string) {
		c.untranslatable(loc, field, construct, reason)
		ok = false
	}
	for _, side := range []struct {
		name string
		e    EntityRule
	}{{"source", r.Source}, {"destination", r.Destination}} {
		if len(side.e.NotPorts) > 0 {
			fail(side.name+".notPorts", portsText(side.e.NotPorts), "Cilium rules cannot exclude ports")
		}
	}
	if len(r.Source.Ports) > 0 {
		fail("source.ports", portsText(r.Source.Ports), "Cilium rules match destination ports only, never source ports")
	}
	if r.NotICMP != nil {
		fail("notICMP", icmpText(r.NotICMP), "Cilium rules cannot exclude ICMP types")
	}
	var m l4Match
	if r.Protocol != nil {
		proto, known := normalizeProtocol(*r.Protocol)
		if !known {
			fail("protocol", string(*r.Protocol), "Cilium policies match TCP, UDP, SCTP and ICMP types only")
			return L4{}, m, false
		}
		m.proto = proto
	}
	if r.NotProtocol != nil {
		not, _ := normalizeProtocol(*r.NotProtocol)
		if m.proto == "" || m.proto == not {
			fail("notProtocol", string(*r.NotProtocol), "Cilium rules cannot exclude a protocol")
		}
		// With a different protocol set, the exclusion adds nothing.
	}
	l4, ok2 := c.portsOrICMP(r, m.proto, loc, &m)
	return l4, m, ok && ok2
}

func (c *policyCtx) portsOrICMP(r Rule, proto string, loc ruleLoc, m *l4Match) (L4, bool) {
	switch proto {
	case protoICMP, protoICMPv6:
		return c.icmp(r, proto, loc)
	case "":
		if r.ICMP != nil {
			c.untranslatable(loc, "icmp", icmpText(r.ICMP), "an ICMP match needs protocol ICMP or ICMPv6")
			return L4{}, false
		}
		if len(r.Destination.Ports) > 0 {
			c.untranslatable(loc, "destination.ports", portsText(r.Destination.Ports), "ports need a protocol (TCP, UDP or SCTP)")
			return L4{}, false
		}
		return L4{}, true
	}
	if r.ICMP != nil {
		c.untranslatable(loc, "icmp", icmpText(r.ICMP), "an ICMP match needs protocol ICMP or ICMPv6, not "+proto)
		return L4{}, false
	}
	if len(r.Destination.Ports) == 0 {
		return L4{ToPorts: []PortRule{{Ports: []PortProtocol{{Port: "0", Protocol: proto}}}}}, true
	}
	var pps []PortProtocol
	for _, p := range r.Destination.Ports {
		pr, err := parsePort(p)
		if err != nil {
			c.untranslatable(loc, "destination.ports", string(p), err.Error())
			return L4{}, false
		}
		m.ports = append(m.ports, pr)
		pps = append(pps, pr.portProtocol(proto))
	}
	return L4{ToPorts: []PortRule{{Ports: pps}}}, true
}

func (c *policyCtx) icmp(r Rule, proto string, loc ruleLoc) (L4, bool) {
	if len(r.Destination.Ports) > 0 {
		c.untranslatable(loc, "destination.ports", portsText(r.Destination.Ports), "ports cannot be combined with "+proto)
		return L4{}, false
	}
	if r.ICMP == nil || r.ICMP.Type == nil {
		c.untranslatable(loc, "protocol", proto, "Cilium ICMP rules match listed ICMP types only (there is no \"any ICMP\"): list the types needed")
		return L4{}, false
	}
	if r.ICMP.Code != nil {
		c.untranslatable(loc, "icmp.code", strconv.Itoa(*r.ICMP.Code), "Cilium ICMP rules cannot match an ICMP code")
		return L4{}, false
	}
	if t := *r.ICMP.Type; t < 0 || t > 255 {
		c.untranslatable(loc, "icmp.type", strconv.Itoa(t), "not an ICMP type (0-255)")
		return L4{}, false
	}
	family := map[string]string{protoICMP: "IPv4", protoICMPv6: "IPv6"}[proto]
	return L4{ICMPs: []ICMPRule{{Fields: []ICMPField{{Family: family, Type: *r.ICMP.Type}}}}}, true
}

func portsText(ps []Port) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = string(p)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func icmpText(f *ICMPFields) string {
	var parts []string
	if f.Type != nil {
		parts = append(parts, fmt.Sprintf("type: %d", *f.Type))
	}
	if f.Code != nil {
		parts = append(parts, fmt.Sprintf("code: %d", *f.Code))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// disjoint reports whether two L4 matches can never match the same packet.
func (a l4Match) disjoint(b l4Match) bool {
	if a.proto != "" && b.proto != "" && a.proto != b.proto {
		return true
	}
	if a.ports == nil || b.ports == nil || a.proto == "" || b.proto == "" {
		return false
	}
	for _, x := range a.ports {
		for _, y := range b.ports {
			if x.name != "" || y.name != "" || (x.from <= y.to && y.from <= x.to) {
				return false
			}
		}
	}
	return true
}
