package nethost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempDirPrefix starts every harness work dir's name, followed by the instance prefix.
const tempDirPrefix = "cnimigrate-nethost-"

// instanceRE finds an instance prefix at the start of a netns/link name or inside a path.
var instanceRE = regexp.MustCompile(`(?:^|` + tempDirPrefix + `)(` + Prefix + `[0-9]{3})(?:-|$)`)

// Cleanup removes leftovers of harness instances whose owner process is gone: processes, network
// namespaces, links and work dirs named with a prefix starting with prefix (Prefix sweeps them all),
// and their leases. Live instances (of this or any other process) are never touched.
func Cleanup(prefix string) error {
	if !strings.HasPrefix(prefix, Prefix) {
		return fmt.Errorf("nethost: Cleanup prefix %q does not start with %q", prefix, Prefix)
	}
	ctx, cancel := context.WithTimeout(context.Background(), destroyTimeout)
	defer cancel()
	reg := defaultRegistry()
	unlock, err := reg.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return errors.Join(sweepStale(ctx, reg, prefix), removeIdleMountpoints(reg))
}

// sweepStale removes every instance matching prefix that has no live lease. The registry is locked.
func sweepStale(ctx context.Context, reg *registry, prefix string) error {
	leases, err := reg.leases()
	if err != nil {
		return err
	}
	live := map[string]string{} // instance prefix -> its work dir
	var errs []error
	for _, l := range leases {
		switch {
		case reg.live(l):
			live[l.Prefix] = l.WorkDir
		case strings.HasPrefix(l.Prefix, prefix):
			errs = append(errs, sweepInstance(ctx, reg, l.Prefix, l.WorkDir))
		}
	}
	stale := func(name string) (string, bool) {
		m := instanceRE.FindStringSubmatch(name)
		if m == nil || !strings.HasPrefix(m[1], prefix) {
			return "", false
		}
		_, ok := live[m[1]]
		return m[1], !ok
	}
	orphans := map[string]bool{}
	nss, err := listNetns(ctx)
	errs = append(errs, err)
	links, err := listLinks(ctx)
	errs = append(errs, err)
	rules, err := forwardRulePrefixes(ctx)
	errs = append(errs, err)
	for _, n := range append(append(nss, links...), rules...) {
		if p, ok := stale(n); ok {
			orphans[p] = true
		}
	}
	for p := range orphans {
		errs = append(errs, sweepInstance(ctx, reg, p, ""))
	}
	errs = append(errs, killOrphanProcs(live, prefix))
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempDirPrefix+Prefix+"*"))
	for _, d := range dirs {
		if p, ok := stale(filepath.Base(d)); p != "" && (ok || live[p] != d) {
			errs = append(errs, os.RemoveAll(d))
		}
	}
	return errors.Join(errs...)
}

// sweepInstance removes one instance: processes in its namespaces, the namespaces, its links, its
// work dir (when known) and its lease. Missing pieces are no error. The registry is locked.
func sweepInstance(ctx context.Context, reg *registry, prefix, workDir string) error {
	var errs []error
	nss, err := listNetns(ctx)
	errs = append(errs, err)
	for _, ns := range nss {
		if !strings.HasPrefix(ns, prefix+"-") {
			continue
		}
		errs = append(errs, killNetnsProcs(ctx, ns))
		if err := ip(ctx, "netns", "del", ns); err != nil && !notFound(err) {
			errs = append(errs, err)
		}
	}
	if workDir != "" {
		errs = append(errs, killProcs(func(cmdline string) bool { return strings.Contains(cmdline, workDir+"/") }))
	}
	links, err := listLinks(ctx)
	errs = append(errs, err)
	for _, l := range links {
		if strings.HasPrefix(l, prefix+"-") {
			// Deleting one end of a veth deletes its peer: a later "not found" is expected.
			if err := ip(ctx, "link", "del", l); err != nil && !notFound(err) {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, removeForwardRules(ctx, prefix))
	if workDir != "" && strings.HasPrefix(filepath.Base(workDir), tempDirPrefix+prefix+"-") {
		errs = append(errs, os.RemoveAll(workDir))
	}
	errs = append(errs, reg.remove(prefix))
	return errors.Join(errs...)
}

func notFound(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Cannot find device") || strings.Contains(s, "No such file") ||
		strings.Contains(s, "does not exist")
}

// killNetnsProcs kills every process in network namespace ns and waits until they are gone.
func killNetnsProcs(ctx context.Context, ns string) error {
	for attempt := 0; attempt < 50; attempt++ {
		out, err := run(ctx, "ip", "netns", "pids", ns)
		if err != nil {
			return err
		}
		pids := strings.Fields(out)
		if len(pids) == 0 {
			return nil
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nethost: processes in netns %s survive SIGKILL", ns)
}

// killOrphanProcs kills processes (e.g. an sshd whose netns is already gone) whose command line
// names a harness work dir of an instance matching prefix that is not live.
func killOrphanProcs(live map[string]string, prefix string) error {
	return killProcs(func(cmdline string) bool {
		m := instanceRE.FindStringSubmatch(cmdline)
		if m == nil || !strings.HasPrefix(m[1], prefix) {
			return false
		}
		dir, ok := live[m[1]]
		return !ok || !strings.Contains(cmdline, dir+"/")
	})
}

// killProcs SIGKILLs every process (but this one) whose NUL-joined command line matches.
func killProcs(match func(cmdline string) bool) error {
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		if match(strings.ReplaceAll(string(b), "\x00", " ")) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return nil
}
