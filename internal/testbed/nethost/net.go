package nethost

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
)

// bridgeName, netnsName and vethName are every name the instance puts on the system; all start
// with "<instance prefix>-" and fit Linux's 15-character interface names.
func bridgeName(prefix string) string         { return prefix + "-br" }
func netnsName(prefix string, i int) string   { return fmt.Sprintf("%s-%d", prefix, i) }
func vethName(prefix string, i int) string    { return fmt.Sprintf("%s-v%d", prefix, i) }
func peerTmpName(prefix string, i int) string { return fmt.Sprintf("%s-p%d", prefix, i) }

// hostAddr is host i's address: .(i+2) of the subnet (.1 is the gateway).
func hostAddr(sn netip.Prefix, i int) netip.Addr {
	a := sn.Addr()
	for n := 0; n < i+2; n++ {
		a = a.Next()
	}
	return a
}

// gatewayAddr is the bridge's address, .1 of the subnet.
func gatewayAddr(sn netip.Prefix) netip.Addr { return sn.Addr().Next() }

// createBridge creates the private bridge holding the gateway address. It has no other ports than
// the hosts' veths, and nothing forwards between it and any other interface.
func createBridge(ctx context.Context, prefix string, sn netip.Prefix) error {
	br := bridgeName(prefix)
	steps := [][]string{
		{"link", "add", br, "type", "bridge"},
		{"addr", "add", netip.PrefixFrom(gatewayAddr(sn), sn.Bits()).String(), "dev", br},
		{"link", "set", br, "up"},
	}
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return fmt.Errorf("nethost: bridge %s: %w", br, err)
		}
	}
	// With br_netfilter, frames between two hosts on the bridge traverse the FORWARD chain. A
	// Docker engine on the same machine (the kind tier) sets its policy to DROP, which cut the
	// hosts off from each other: accept what stays on this bridge, and nothing else.
	if _, err := run(ctx, append([]string{"iptables", "-w", "-I"}, forwardRule(prefix)...)...); err != nil {
		return fmt.Errorf("nethost: bridge %s: accept its own traffic in FORWARD: %w", br, err)
	}
	return nil
}

// forwardRule is the FORWARD rule that lets frames stay on an instance's bridge.
func forwardRule(prefix string) []string {
	br := bridgeName(prefix)
	return []string{"FORWARD", "-i", br, "-o", br, "-m", "comment", "--comment", forwardComment + prefix, "-j", "ACCEPT"}
}

const forwardComment = "cnimigrate-nethost "

// removeForwardRules deletes the instance's FORWARD rules (every copy; none is no error).
func removeForwardRules(ctx context.Context, prefix string) error {
	for range 100 {
		if _, err := run(ctx, append([]string{"iptables", "-w", "-D"}, forwardRule(prefix)...)...); err != nil {
			if strings.Contains(err.Error(), "does a matching rule exist") || strings.Contains(err.Error(), "No chain/target/match") {
				return nil
			}
			return fmt.Errorf("nethost: remove the FORWARD rule of %s: %w", prefix, err)
		}
	}
	return fmt.Errorf("nethost: 100 copies of the FORWARD rule of %s", prefix)
}

// forwardRulePrefixes returns the instance prefixes that have FORWARD rules.
func forwardRulePrefixes(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "iptables", "-w", "-S", "FORWARD")
	if err != nil {
		return nil, err
	}
	var ps []string
	for _, line := range strings.Split(out, "\n") {
		if _, after, ok := strings.Cut(line, `--comment "`+forwardComment); ok {
			if f := strings.Fields(after); len(f) > 0 {
				ps = append(ps, strings.TrimSuffix(f[0], `"`))
			}
		}
	}
	return ps, nil
}

// createHostNet creates host i's netns with lo and eth0 (a veth whose peer is on the bridge).
func createHostNet(ctx context.Context, prefix string, i int, sn netip.Prefix) error {
	ns, veth, peer := netnsName(prefix, i), vethName(prefix, i), peerTmpName(prefix, i)
	addr := netip.PrefixFrom(hostAddr(sn, i), sn.Bits()).String()
	steps := [][]string{
		{"netns", "add", ns},
		{"link", "add", veth, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", ns},
		{"-n", ns, "link", "set", peer, "name", "eth0"},
		{"-n", ns, "addr", "add", addr, "dev", "eth0"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "link", "set", "eth0", "up"},
		{"link", "set", veth, "master", bridgeName(prefix)},
		{"link", "set", veth, "up"},
	}
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return fmt.Errorf("nethost: host network %s: %w", ns, err)
		}
	}
	return nil
}

// listNetns returns the names of all network namespaces known to ip(8).
func listNetns(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// listLinks returns the names of the root namespace's links (without the "@peer" suffix).
func listLinks(ctx context.Context) ([]string, error) {
	out, err := run(ctx, "ip", "-o", "link", "show")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name := strings.TrimSuffix(f[1], ":")
		if at := strings.IndexByte(name, '@'); at >= 0 {
			name = name[:at]
		}
		names = append(names, name)
	}
	return names, nil
}

// routesInUse returns every IPv4 destination and local address of this machine's routing tables.
func routesInUse(ctx context.Context) ([]netip.Prefix, error) {
	out, err := run(ctx, "ip", "-4", "-o", "route", "show", "table", "all")
	if err != nil {
		return nil, err
	}
	return parseRoutes(out), nil
}

var routeTypes = map[string]bool{"unicast": true, "local": true, "broadcast": true, "multicast": true,
	"anycast": true, "blackhole": true, "unreachable": true, "prohibit": true, "throw": true, "nat": true}

// parseRoutes extracts the destination of each line of `ip -o route show` output.
func parseRoutes(out string) []netip.Prefix {
	var ps []netip.Prefix
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && routeTypes[f[0]] {
			f = f[1:]
		}
		if len(f) == 0 || f[0] == "default" {
			continue
		}
		if p, err := netip.ParsePrefix(f[0]); err == nil {
			ps = append(ps, p.Masked())
		} else if a, err := netip.ParseAddr(f[0]); err == nil {
			ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return ps
}
