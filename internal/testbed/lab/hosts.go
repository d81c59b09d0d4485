package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost"
)

// hostHarness is the part of *nethost.Hosts the lab uses.
type hostHarness interface {
	Destroy() error
	List() []nethost.Host
	Exec(ctx context.Context, host string, argv ...string) (string, error)
	KeyPath() string
	KnownHostsPath() string
	SSHArgs(host string) []string
	Gateway() string
	Finish(ctx context.Context) error
}

// harness adapts *nethost.Hosts (its gateway is a netip.Addr).
type harness struct{ *nethost.Hosts }

func (h harness) Gateway() string { return h.GatewayIP().String() }

// harnessRecord is what the state file keeps of the node hosts.
type harnessRecord struct {
	Prefix string `json:"prefix"` // every netns and link of the instance starts with it
	Dir    string `json:"dir"`
}

// beginHosts fixes the node hosts' names (those of the nodes) and addresses, brings up their
// bridge (whose gateway address the API server binds) and records them; finishHosts, run beside
// the control plane's start, does the slow rest.
func (l *Lab) beginHosts(ctx context.Context) error {
	names := make([]string, 0, l.cfg.Servers+l.cfg.Agents)
	for _, n := range planNodes(l.cfg.Servers, l.cfg.Agents, make([]string, l.cfg.Servers+l.cfg.Agents)) {
		names = append(names, n.Name)
	}
	dirs := append(append([]string{}, nethost.DefaultDirs...), k3sHostDirs...)
	hs, err := nethost.Begin(ctx, nethost.Config{Names: names, WorkDir: l.cfg.WorkDir, Dirs: dirs})
	if err != nil {
		return err
	}
	l.hosts = harness{hs}
	rec, _ := json.Marshal(harnessRecord{Prefix: hs.Prefix(), Dir: hs.Dir()})
	l.state.Hosts = &HostsState{Gateway: hs.GatewayIP().String(), KeyPath: hs.KeyPath(),
		KnownHosts: hs.KnownHostsPath(), Harness: rec}
	return l.state.write()
}

// finishHosts creates the hosts' namespaces, keys and sshd and waits until each accepts SSH.
func (l *Lab) finishHosts(ctx context.Context) error {
	return l.hosts.Finish(ctx)
}

// nodeIPs are the nodes' InternalIPs: the node hosts' addresses, or (without node hosts) addresses
// in the same never-routed range that nothing listens on.
func (l *Lab) nodeIPs() []string {
	n := l.cfg.Servers + l.cfg.Agents
	ips := make([]string, n)
	if l.hosts != nil {
		for i, h := range l.hosts.List() {
			ips[i] = h.IP.String()
		}
		return ips
	}
	for i := range ips {
		ips[i] = fmt.Sprintf("198.18.0.%d", i+2)
	}
	return ips
}

// cleanupHosts removes node hosts recorded in the state file whose owner is gone (a crash); the
// owner's own Down destroys them directly. The hosts' sshd died with their owner already.
func cleanupHosts(_ context.Context, st *State) error {
	if st.Hosts == nil || len(st.Hosts.Harness) == 0 {
		return nil
	}
	var rec harnessRecord
	if err := json.Unmarshal(st.Hosts.Harness, &rec); err != nil {
		return fmt.Errorf("read node-host record: %w", err)
	}
	if rec.Prefix == "" {
		return nil
	}
	if alive(st.OwnerPID) && st.OwnerPID != os.Getpid() {
		if leftovers(rec.Prefix) {
			return fmt.Errorf("node hosts %s-* belong to process %d, which is still running", rec.Prefix, st.OwnerPID)
		}
		return nil
	}
	return nethost.Cleanup(rec.Prefix)
}

// leftovers reports whether any network namespace of the instance exists.
func leftovers(prefix string) bool {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			return true
		}
	}
	return false
}
