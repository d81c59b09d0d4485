package ansiblee2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost"
)

// procID identifies a process across PID reuse.
type procID struct {
	pid   int
	start string
}

// hostProcs lists the processes running in the hosts' network namespaces (sshd and its sessions).
func hostProcs(t *testing.T, hs *nethost.Hosts) []procID {
	var out []procID
	for _, h := range hs.List() {
		b, err := exec.Command("ip", "netns", "pids", h.NetNS).Output()
		if err != nil {
			t.Errorf("list processes of %s: %v", h.NetNS, err)
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(f)
			if st, _, ok := procStat(pid); ok {
				out = append(out, procID{pid, st})
			}
		}
	}
	return out
}

// procStat returns a live process's start time and state (zombies are dead: ok is false).
func procStat(pid int) (start, state string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", "", false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 || f[0] == "Z" {
		return "", "", false
	}
	return f[19], f[0], true
}

// assertNoLeftovers checks that the hosts' netns, links, processes, work dir and lease are gone.
func assertNoLeftovers(t *testing.T, hs *nethost.Hosts, before []procID) {
	t.Helper()
	if len(before) == 0 {
		t.Error("no sshd process was seen in the hosts before teardown: the check below proves nothing")
	}
	ns, _ := exec.Command("ip", "netns", "list").Output()
	links, _ := exec.Command("ip", "-o", "link", "show").Output()
	for what, out := range map[string][]byte{"netns": ns, "link": links} {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, hs.Prefix()+"-") {
				t.Errorf("%s left behind: %s", what, line)
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range before {
		for {
			st, _, ok := procStat(p.pid)
			if !ok || st != p.start {
				break
			}
			if time.Now().After(deadline) {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
				t.Errorf("process %d (%s) of the hosts still runs", p.pid, strings.ReplaceAll(string(cmd), "\x00", " "))
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range procs {
		b, _ := os.ReadFile(c)
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(c)))
		if _, _, live := procStat(pid); live && strings.Contains(string(b), hs.Dir()) {
			t.Errorf("process %s still names the work dir: %s", c, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	if _, err := os.Stat(hs.Dir()); !os.IsNotExist(err) {
		t.Errorf("work dir %s left behind (%v)", hs.Dir(), err)
	}
	if _, err := os.Stat(filepath.Join(nethost.RegistryDir, hs.Prefix()+".lease")); !os.IsNotExist(err) {
		t.Errorf("subnet lease %s left behind (%v)", hs.Prefix(), err)
	}
}
