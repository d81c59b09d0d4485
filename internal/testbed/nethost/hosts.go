package nethost

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/debpkg"
	"github.com/cnimigrate/cnimigrate/internal/testbed/parallel"
)

// Tools are the commands the harness and the tests running inside hosts rely on, with the Debian
// package providing each. Create installs the missing ones.
var Tools = debpkg.Need{
	sshdBinary:   "openssh-server",
	"ssh":        "openssh-client",
	"ssh-keygen": "openssh-client",
	"ip":         "iproute2",
	"nsenter":    "util-linux",
	"unshare":    "util-linux",
	"hostname":   "hostname",
	"iptables":   "iptables",
	"ipset":      "ipset",
	"nft":        "nftables",
}

// Timeouts of the harness' own steps.
const (
	SSHTimeout     = 30 * time.Second // WaitSSH when the context has no deadline
	destroyTimeout = time.Minute
)

// Host is one node host.
type Host struct {
	Name  string
	IP    netip.Addr
	NetNS string // the network namespace's name (ip netns)
	root  string
}

// Root is the directory (in the root mount namespace) behind the host's per-host directories:
// the host sees Root()+"/etc/cni/net.d" as /etc/cni/net.d.
func (h Host) Root() string { return h.root }

// Path returns where the host's file p (an absolute path inside a per-host directory) lives.
func (h Host) Path(p string) string { return filepath.Join(h.root, p) }

// Hosts is a set of node hosts; Destroy removes them.
type Hosts struct {
	cfg     Config
	reg     *registry
	prefix  string
	subnet  netip.Prefix
	dir     string
	hosts   []Host
	mu      sync.Mutex
	procs   map[string]*sshdProc
	removed bool
}

// Prefix is the instance's name prefix (e.g. "cnm007"): every netns and link it made starts with it.
func (hs *Hosts) Prefix() string { return hs.prefix }

// Subnet is the /24 the hosts and the gateway live in.
func (hs *Hosts) Subnet() netip.Prefix { return hs.subnet }

// GatewayIP is the bridge's address in the root namespace: the controller side, reachable from
// every host (serve anything the hosts must reach, e.g. an API server, on it).
func (hs *Hosts) GatewayIP() netip.Addr { return gatewayAddr(hs.subnet) }

// Dir is the harness work dir (keys, inventory, host roots, sshd logs).
func (hs *Hosts) Dir() string { return hs.dir }

// List returns the hosts in Config.Names order.
func (hs *Hosts) List() []Host { return append([]Host(nil), hs.hosts...) }

// Host returns a host by name.
func (hs *Hosts) Host(name string) (Host, bool) {
	for _, h := range hs.hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// InventoryPath is the YAML inventory naming every host, its groups and how to reach it.
func (hs *Hosts) InventoryPath() string { return filepath.Join(hs.dir, "inventory.yml") }

// KnownHostsPath is the known_hosts file holding every host's host key.
func (hs *Hosts) KnownHostsPath() string { return filepath.Join(hs.dir, "known_hosts") }

// KeyPath is the private key that logs in as root on every host.
func (hs *Hosts) KeyPath() string { return filepath.Join(hs.dir, "id_ed25519") }

// shellrcPath is the file the hosts see as root's ~/.bashrc and ~/.profile (see rootShellFiles).
func (hs *Hosts) shellrcPath() string { return filepath.Join(hs.dir, "shellrc") }

func (hs *Hosts) hostDir(name string) string { return filepath.Join(hs.dir, "hosts", name) }

// SSHDLog returns the path of a host's sshd log (useful when a test fails).
func (hs *Hosts) SSHDLog(name string) string { return filepath.Join(hs.hostDir(name), "sshd.log") }

// Create makes the hosts and waits until each serves SSH (see waitServing). It needs root. On
// failure it removes whatever it made.
func Create(ctx context.Context, cfg Config) (*Hosts, error) {
	hs, err := Begin(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := hs.Finish(ctx); err != nil {
		if derr := hs.Destroy(); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	return hs, nil
}

// Begin is the quick first part of Create: it fixes the hosts' names and addresses and brings up
// the bridge, so the gateway address exists (a server can bind it) while Finish, the slow part,
// runs. The caller runs Finish next and Destroys the hosts if either fails after Begin returned.
func Begin(ctx context.Context, cfg Config) (*Hosts, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("nethost: creating network namespaces needs root")
	}
	if err := debpkg.Ensure(ctx, Tools); err != nil {
		return nil, fmt.Errorf("nethost: %w", err)
	}
	hs, err := acquire(ctx, defaultRegistry(), cfg)
	if err != nil {
		return nil, err
	}
	if err := createBridge(ctx, hs.prefix, hs.subnet); err != nil {
		if derr := hs.Destroy(); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	return hs, nil
}

// prepareParallel bounds how many hosts Finish prepares at once (ip and ssh-keygen processes).
const prepareParallel = 8

// Finish creates keys, network, files and sshd for every host, then waits until every sshd
// serves (waitServing).
func (hs *Hosts) Finish(ctx context.Context) error {
	clientPub, err := keygen(ctx, hs.KeyPath(), "cnimigrate-nethost-"+hs.prefix)
	if err != nil {
		return err
	}
	authorized := filepath.Join(hs.dir, "authorized_keys")
	if err := os.WriteFile(authorized, []byte(clientPub+"\n"), 0o600); err != nil {
		return fmt.Errorf("nethost: write authorized_keys: %w", err)
	}
	if err := os.WriteFile(hs.shellrcPath(), []byte(shellrcContent), 0o644); err != nil {
		return fmt.Errorf("nethost: write the hosts' shell start-up file: %w", err)
	}
	pubs := make([]string, len(hs.hosts))
	err = parallel.Each(len(hs.hosts), prepareParallel, func(i int) (err error) {
		pubs[i], err = hs.prepareHost(ctx, i, hs.hosts[i], authorized)
		return err
	})
	if err != nil {
		return err
	}
	hostKeys := map[netip.Addr]string{}
	for i, h := range hs.hosts {
		hostKeys[h.IP] = pubs[i]
	}
	if err := hs.writeInventory(hostKeys); err != nil {
		return err
	}
	for _, h := range hs.hosts {
		if err := hs.start(h); err != nil {
			return err
		}
	}
	return hs.waitServing(ctx)
}

// prepareHost creates a host's netns, files, host key and sshd config; it returns the host key.
func (hs *Hosts) prepareHost(ctx context.Context, i int, h Host, authorized string) (string, error) {
	if err := createHostNet(ctx, hs.prefix, i, hs.subnet); err != nil {
		return "", err
	}
	for _, d := range hs.cfg.Dirs {
		if err := os.MkdirAll(h.Path(d), 0o755); err != nil {
			return "", fmt.Errorf("nethost: host %s dir %s: %w", h.Name, d, err)
		}
	}
	key := filepath.Join(hs.hostDir(h.Name), "ssh_host_ed25519_key")
	pub, err := keygen(ctx, key, "host-"+h.Name)
	if err != nil {
		return "", err
	}
	conf := sshdConfig(h, key, authorized)
	if err := os.WriteFile(filepath.Join(hs.hostDir(h.Name), "sshd_config"), []byte(conf), 0o600); err != nil {
		return "", fmt.Errorf("nethost: write sshd_config for %s: %w", h.Name, err)
	}
	return pub, nil
}

func (hs *Hosts) writeInventory(hostKeys map[netip.Addr]string) error {
	kh, err := renderKnownHosts(hostKeys)
	if err != nil {
		return err
	}
	if err := os.WriteFile(hs.KnownHostsPath(), []byte(kh), 0o644); err != nil {
		return fmt.Errorf("nethost: write known_hosts: %w", err)
	}
	inv, err := renderInventory(inventoryInput{Hosts: hs.hosts, Groups: hs.cfg.Groups, Vars: hs.cfg.Vars,
		HostVars: hs.cfg.HostVars, KeyPath: hs.KeyPath(), KnownHosts: hs.KnownHostsPath()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(hs.InventoryPath(), inv, 0o644); err != nil {
		return fmt.Errorf("nethost: write inventory: %w", err)
	}
	return nil
}

// start launches a host's sshd (as the first process of its namespaces).
func (hs *Hosts) start(h Host) error {
	script := hostScript(h, hs.cfg.Dirs, filepath.Join(hs.hostDir(h.Name), "sshd_config"), hs.shellrcPath())
	p, err := startHost(h, script, hs.SSHDLog(h.Name))
	if err != nil {
		return err
	}
	hs.mu.Lock()
	hs.procs[h.Name] = p
	hs.mu.Unlock()
	return nil
}

// Exec runs argv inside host's network, mount and UTS namespaces (as root, like a module would)
// and returns its stdout. Errors carry stderr.
func (hs *Hosts) Exec(ctx context.Context, host string, argv ...string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("nethost: Exec needs a command")
	}
	hs.mu.Lock()
	p, ok := hs.procs[host]
	hs.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("nethost: no running host %q", host)
	}
	if p.exited() {
		return "", fmt.Errorf("nethost: host %s is down (sshd exited: %v); see %s", host, p.err, hs.SSHDLog(host))
	}
	pid := fmt.Sprint(p.pid)
	return run(ctx, append([]string{"nsenter", "-t", pid, "-n", "-m", "-u", "--"}, argv...)...)
}
