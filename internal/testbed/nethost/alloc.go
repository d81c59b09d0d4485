package nethost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// RegistryDir holds one lease file per live harness instance and the lock guarding them.
const RegistryDir = "/run/cnimigrate/nethost"

// lease records who owns a subnet, so a later process can tell a live instance from leftovers.
type lease struct {
	Prefix  string `json:"prefix"`
	Subnet  string `json:"subnet"`
	PID     int    `json:"pid"`
	Start   uint64 `json:"start"` // the owner's start time (clock ticks since boot): guards against PID reuse
	WorkDir string `json:"workDir"`
}

// registry is the lease directory; dir is a field so unit tests can use a temp dir.
type registry struct {
	dir   string
	alive func(pid int, start uint64) bool
}

func defaultRegistry() *registry { return &registry{dir: RegistryDir, alive: processAlive} }

// lock takes an exclusive flock on the registry; the returned func releases it.
func (r *registry) lock() (func(), error) {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("nethost: create registry %s: %w", r.dir, err)
	}
	f, err := os.OpenFile(filepath.Join(r.dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("nethost: open registry lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("nethost: lock registry: %w", err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// leases reads every lease file. Unreadable ones are returned as owner-less (so they get swept).
func (r *registry) leases() ([]lease, error) {
	names, err := filepath.Glob(filepath.Join(r.dir, Prefix+"*.lease"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]lease, 0, len(names))
	for _, n := range names {
		l := lease{Prefix: strings.TrimSuffix(filepath.Base(n), ".lease")}
		if b, err := os.ReadFile(n); err == nil {
			_ = json.Unmarshal(b, &l)
		}
		out = append(out, l)
	}
	return out, nil
}

func (r *registry) path(prefix string) string { return filepath.Join(r.dir, prefix+".lease") }

func (r *registry) write(l lease) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.path(l.Prefix) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("nethost: write lease: %w", err)
	}
	return os.Rename(tmp, r.path(l.Prefix))
}

func (r *registry) remove(prefix string) error {
	if err := os.Remove(r.path(prefix)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("nethost: release lease %s: %w", prefix, err)
	}
	return nil
}

// live reports whether l's owner still runs.
func (r *registry) live(l lease) bool { return l.PID > 0 && r.alive(l.PID, l.Start) }

// instancePrefix is the name prefix of the instance owning subnet index i.
func instancePrefix(i int) string { return fmt.Sprintf("%s%03d", Prefix, i) }

// subnetAt returns the i-th /24 of the pool.
func subnetAt(i int) (netip.Prefix, error) {
	n := 1 << (24 - Pool.Bits())
	if i < 0 || i >= n {
		return netip.Prefix{}, fmt.Errorf("nethost: subnet index %d outside the pool %s", i, Pool)
	}
	b := Pool.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(i) << 8
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24), nil
}

// pickSubnet returns the lowest pool index that no lease holds and that overlaps none of the
// machine's routes or addresses (inUse).
func pickSubnet(taken map[string]bool, inUse []netip.Prefix) (int, netip.Prefix, error) {
	for i := 0; ; i++ {
		sn, err := subnetAt(i)
		if err != nil {
			return 0, netip.Prefix{}, fmt.Errorf("nethost: no free /24 left in %s (%d leased)", Pool, len(taken))
		}
		if taken[instancePrefix(i)] || conflicts(sn, inUse) {
			continue
		}
		return i, sn, nil
	}
}

// conflicts reports whether sn overlaps a route or address that is specific to our pool (a
// default route or a wider route that merely contains the pool is no conflict: ours is more specific).
func conflicts(sn netip.Prefix, inUse []netip.Prefix) bool {
	for _, p := range inUse {
		if p.Bits() >= Pool.Bits() && p.Overlaps(sn) {
			return true
		}
	}
	return false
}

// processAlive reports whether pid runs and started at start (0 start: any start time).
func processAlive(pid int, start uint64) bool {
	got, err := processStart(pid)
	if err != nil {
		return false
	}
	return start == 0 || got == start
}

// processStart reads a process's start time from /proc/<pid>/stat (field 22).
func processStart(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("nethost: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, fmt.Errorf("nethost: short /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}
