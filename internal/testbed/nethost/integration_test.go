package nethost_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost"
	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost/nethosttest"
)

// TestIntegrationHosts creates two hosts and checks what a module running on them would see:
// its own name, address, links and per-host files, reachable over SSH with strict host keys.
func TestIntegrationHosts(t *testing.T) {
	hs := nethosttest.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if !hs.Subnet().Contains(hs.GatewayIP()) || !nethost.Pool.Contains(hs.GatewayIP()) {
		t.Fatalf("gateway %s outside subnet %s or pool %s", hs.GatewayIP(), hs.Subnet(), nethost.Pool)
	}
	for _, h := range hs.List() {
		t.Run(h.Name, func(t *testing.T) {
			if got := ssh(t, ctx, hs, h.Name, "hostname"); got != h.Name {
				t.Errorf("hostname over ssh = %q, want %q", got, h.Name)
			}
			// Logins do not run this machine's root shell start-up files (a developer's pyenv init
			// made each Ansible task slower, and its stale lock made logins hang).
			if _, err := os.Stat("/root/.bashrc"); err == nil {
				if got := ssh(t, ctx, hs, h.Name, "cat /root/.bashrc"); !strings.HasPrefix(got, "# node host") {
					t.Errorf("root's ~/.bashrc on host %s is this machine's: %.80q", h.Name, got)
				}
			}
			// Under make test, SSH sessions see only the commands hack/deps.txt lists, like the tests.
			if guard := os.Getenv(nethost.GuardPathEnv); guard != "" {
				if got := ssh(t, ctx, hs, h.Name, "echo $PATH"); got != guard {
					t.Errorf("PATH over ssh = %q, want the guarded %q", got, guard)
				}
			}
			addrs := exec(t, ctx, hs, h.Name, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
			if !strings.Contains(addrs, h.IP.String()+"/24") {
				t.Errorf("eth0 of %s lacks %s/24: %s", h.Name, h.IP, addrs)
			}
			if routes := exec(t, ctx, hs, h.Name, "ip", "route"); strings.Contains(routes, "default") {
				t.Errorf("host %s has a default route: %s", h.Name, routes)
			}
			// /sys is the host's: it lists eth0 and not the bridge.
			if sys := exec(t, ctx, hs, h.Name, "ls", "/sys/class/net"); !strings.Contains(sys, "eth0") ||
				strings.Contains(sys, hs.Prefix()+"-br") {
				t.Errorf("/sys/class/net in %s = %q", h.Name, sys)
			}
			// A file written on the host over SSH lands in its Root(), not on this machine.
			ssh(t, ctx, hs, h.Name, "echo "+h.Name+" > /etc/cni/net.d/owner")
			b, err := os.ReadFile(h.Path("/etc/cni/net.d/owner"))
			if err != nil || strings.TrimSpace(string(b)) != h.Name {
				t.Errorf("host file via Root(): %q, %v", b, err)
			}
			if _, err := os.Stat("/etc/cni/net.d/owner"); err == nil {
				t.Errorf("file written on host %s appeared on the machine's /etc/cni/net.d", h.Name)
			}
			// Things tests set up inside a host: iptables chains and ipsets live in its netns.
			exec(t, ctx, hs, h.Name, "iptables", "-N", "CNIMIGRATE-TEST")
			exec(t, ctx, hs, h.Name, "ipset", "create", "cnimigrate-test", "hash:ip")
			if out := exec(t, ctx, hs, h.Name, "iptables", "-S"); !strings.Contains(out, "CNIMIGRATE-TEST") {
				t.Errorf("chain missing inside host: %s", out)
			}
		})
	}
	// The other host and the gateway are reachable; host keys are checked (a wrong key is refused).
	a, b := hs.List()[0], hs.List()[1]
	exec(t, ctx, hs, a.Name, "ping", "-c1", "-W2", b.IP.String())
	exec(t, ctx, hs, a.Name, "ping", "-c1", "-W2", hs.GatewayIP().String())
	wrongKnownHosts(t, ctx, hs)
}

func wrongKnownHosts(t *testing.T, ctx context.Context, hs *nethost.Hosts) {
	kh, err := os.ReadFile(hs.KnownHostsPath())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	a, b := hs.List()[0], hs.List()[1]
	// Give host a the key of host b.
	swapped := strings.Replace(lines[1], b.IP.String(), a.IP.String(), 1) + "\n"
	bad := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(bad, []byte(swapped), 0o600); err != nil {
		t.Fatal(err)
	}
	args := hs.SSHArgs(a.Name)
	for i := range args {
		if strings.HasPrefix(args[i], "UserKnownHostsFile=") {
			args[i] = "UserKnownHostsFile=" + bad
		}
	}
	out, err := command(ctx, append(args, "true")...)
	if err == nil || !strings.Contains(out, "HOST IDENTIFICATION HAS CHANGED") {
		t.Errorf("ssh with a wrong host key: err=%v, output %q; want a refused host key", err, out)
	}
}

func ssh(t *testing.T, ctx context.Context, hs *nethost.Hosts, host, cmd string) string {
	t.Helper()
	out, err := command(ctx, append(hs.SSHArgs(host), cmd)...)
	if err != nil {
		t.Fatalf("ssh %s %q: %v: %s", host, cmd, err, out)
	}
	return strings.TrimSpace(out)
}

func exec(t *testing.T, ctx context.Context, hs *nethost.Hosts, host string, argv ...string) string {
	t.Helper()
	out, err := hs.Exec(ctx, host, argv...)
	if err != nil {
		t.Fatalf("exec on %s: %v", host, err)
	}
	return out
}

// A Docker engine on the same machine (the kind tier's) sets the FORWARD policy to DROP, and with
// br_netfilter frames between two hosts on the bridge traverse FORWARD: the hosts still reach each
// other, and Destroy leaves no rule of theirs behind.
func TestIntegrationHostsBehindForwardDrop(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("changes this machine's FORWARD policy: root, and not under -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rules, err := command(ctx, "iptables", "-w", "-S", "FORWARD")
	if err != nil {
		t.Fatal(err)
	}
	policy := strings.Fields(strings.SplitN(rules, "\n", 2)[0])[2]
	if _, err := command(ctx, "iptables", "-w", "-P", "FORWARD", "DROP"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = command(context.Background(), "iptables", "-w", "-P", "FORWARD", policy) })
	hs := nethosttest.Start(t, 2)
	a, b := hs.List()[0], hs.List()[1]
	exec(t, ctx, hs, a.Name, "ping", "-c1", "-W2", b.IP.String())
	if err := hs.Destroy(); err != nil {
		t.Fatal(err)
	}
	if after, _ := command(ctx, "iptables", "-w", "-S", "FORWARD"); strings.Contains(after, hs.Prefix()) {
		t.Errorf("FORWARD rules of %s left after Destroy:\n%s", hs.Prefix(), after)
	}
}
