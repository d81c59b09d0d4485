package nethost

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/parallel"
)

// acquire leases a subnet (sweeping stale instances first), creates the work dir and mount points,
// and returns the not-yet-built hosts.
func acquire(ctx context.Context, reg *registry, cfg Config) (*Hosts, error) {
	unlock, err := reg.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := sweepStale(ctx, reg, Prefix); err != nil {
		return nil, err
	}
	leases, err := reg.leases()
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, l := range leases {
		taken[l.Prefix] = true
	}
	inUse, err := routesInUse(ctx)
	if err != nil {
		return nil, fmt.Errorf("nethost: read routes: %w", err)
	}
	idx, sn, err := pickSubnet(taken, inUse)
	if err != nil {
		return nil, err
	}
	prefix := instancePrefix(idx)
	parent := cfg.WorkDir
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, tempDirPrefix+prefix+"-")
	if err != nil {
		return nil, fmt.Errorf("nethost: create work dir: %w", err)
	}
	start, err := processStart(os.Getpid())
	if err == nil {
		err = reg.write(lease{Prefix: prefix, Subnet: sn.String(), PID: os.Getpid(), Start: start, WorkDir: dir})
	}
	if err == nil {
		err = ensureMountpoints(reg, append([]string{"/run/sshd"}, cfg.Dirs...))
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		_ = reg.remove(prefix)
		return nil, err
	}
	hs := &Hosts{cfg: cfg, reg: reg, prefix: prefix, subnet: sn, dir: dir, procs: map[string]*sshdProc{}}
	for i, name := range cfg.Names {
		hs.hosts = append(hs.hosts, Host{Name: name, IP: hostAddr(sn, i), NetNS: netnsName(prefix, i),
			root: hs.hostDir(name) + "/root"})
	}
	return hs, nil
}

// Destroy stops every host and removes everything Create made: processes in the hosts'
// namespaces (and with them the hosts' mounts), the namespaces, veths, bridge, work dir and the
// subnet lease. Like rm -f it succeeds when there is nothing (left) to remove; call it as often as you like.
func (hs *Hosts) Destroy() error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.removed {
		return nil
	}
	for _, p := range hs.procs {
		p.stop(5 * time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), destroyTimeout)
	defer cancel()
	unlock, err := hs.reg.lock()
	if err != nil {
		return err
	}
	defer unlock()
	err = errors.Join(sweepInstance(ctx, hs.reg, hs.prefix, hs.dir), removeIdleMountpoints(hs.reg))
	if err == nil {
		hs.removed = true
	}
	return err
}

// SSHArgs returns the ssh command line (argv) that logs in to host as root the way the inventory
// does: the harness key, the harness known_hosts, strict host-key checking. Append a remote command.
func (hs *Hosts) SSHArgs(host string) []string {
	h, _ := hs.Host(host)
	return []string{"ssh", "-i", hs.KeyPath(),
		"-o", "UserKnownHostsFile=" + hs.KnownHostsPath(), "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "ConnectTimeout=5", "root@" + h.IP.String()}
}

// WaitSSH waits until every host accepts an SSH login with the harness key and reports its own
// hostname. Without a deadline on ctx it gives up after SSHTimeout.
// Hosts are checked sshWaitParallel at a time: one by one, a hundred logins alone outlast SSHTimeout.
func (hs *Hosts) WaitSSH(ctx context.Context) error {
	ctx, cancel := withSSHTimeout(ctx)
	defer cancel()
	return parallel.Each(len(hs.hosts), sshWaitParallel, func(i int) error { return hs.waitLogin(ctx, hs.hosts[i]) })
}

// sshWaitParallel bounds WaitSSH's concurrent logins.
const sshWaitParallel = 16

// waitServing is Finish's readiness check, cheaper than WaitSSH on many hosts (a login costs
// ~0.1 s of CPU on each side): every host's sshd must answer with its SSH banner on the host's
// address — it has read its config and host key and listens in the host's netns — and the first
// and last hosts must accept a full login with the harness key (all hosts share one config
// template and one authorized key). Without a deadline on ctx it gives up after SSHTimeout.
func (hs *Hosts) waitServing(ctx context.Context) error {
	ctx, cancel := withSSHTimeout(ctx)
	defer cancel()
	return parallel.Each(len(hs.hosts), 0, func(i int) error {
		if i == 0 || i == len(hs.hosts)-1 {
			return hs.waitLogin(ctx, hs.hosts[i])
		}
		return hs.waitBanner(ctx, hs.hosts[i])
	})
}

// withSSHTimeout bounds ctx by SSHTimeout unless it has a deadline already.
func withSSHTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, SSHTimeout)
}

// waitLogin waits until h accepts an SSH login with the harness key and reports its own hostname.
func (hs *Hosts) waitLogin(ctx context.Context, h Host) error {
	return hs.waitHost(ctx, h, "accepted no SSH login", 100*time.Millisecond, func(ctx context.Context) error {
		out, err := run(ctx, append(hs.SSHArgs(h.Name), "hostname")...)
		if err == nil && strings.TrimSpace(out) != h.Name {
			err = fmt.Errorf("hostname is %q, want %q", strings.TrimSpace(out), h.Name)
		}
		return err
	})
}

// waitBanner waits until h's sshd sends its "SSH-2.0-" banner on h's address, port 22.
func (hs *Hosts) waitBanner(ctx context.Context, h Host) error {
	addr := net.JoinHostPort(h.IP.String(), "22")
	return hs.waitHost(ctx, h, "sent no SSH banner", 50*time.Millisecond, func(ctx context.Context) error {
		return readBanner(ctx, addr)
	})
}

// waitHost runs probe every interval until it succeeds, h's sshd exits, or ctx ends; failures
// name the host, what it did not do, the last attempt's error and the tail of its sshd log.
func (hs *Hosts) waitHost(ctx context.Context, h Host, didNot string, interval time.Duration, probe func(context.Context) error) error {
	hs.mu.Lock()
	p := hs.procs[h.Name]
	hs.mu.Unlock()
	for {
		last := probe(ctx)
		if last == nil {
			return nil
		}
		if p == nil || p.exited() {
			return fmt.Errorf("nethost: sshd of %s is not running: %s", h.Name, readTail(hs.SSHDLog(h.Name)))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nethost: %s (%s) %s: %w (last attempt: %v; sshd log: %s)",
				h.Name, h.IP, didNot, ctx.Err(), last, readTail(hs.SSHDLog(h.Name)))
		case <-time.After(interval):
		}
	}
}

func readBanner(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read banner: %w", err)
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("not an SSH banner: %q", line)
	}
	return nil
}

func readTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 1500 {
		s = "…" + s[len(s)-1500:]
	}
	return s
}
