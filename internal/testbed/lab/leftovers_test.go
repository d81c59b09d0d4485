package lab_test

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
)

// snapshot names what must be gone after Down.
type snapshot struct {
	workDir string
	netns   []string
	links   []string
}

func snapshotOf(l *lab.Lab) snapshot {
	s := snapshot{workDir: l.WorkDir()}
	st, err := lab.ReadState(l.WorkDir())
	if err == nil && st.Hosts != nil {
		var rec struct{ Prefix string }
		_ = json.Unmarshal(st.Hosts.Harness, &rec)
		if rec.Prefix != "" {
			s.netns = append(s.netns, rec.Prefix+"-")
			s.links = append(s.links, rec.Prefix+"-")
		}
	}
	return s
}

func (s snapshot) assertGone(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(s.workDir); !os.IsNotExist(err) {
		t.Errorf("work dir %s still exists after Down (%v)", s.workDir, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), s.workDir) {
			t.Errorf("process %s still runs after Down: %q", p, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), s.workDir) {
		t.Errorf("mounts under %s remain after Down", s.workDir)
	}
	nss, _ := os.ReadDir("/run/netns")
	for _, ns := range nss {
		for _, p := range s.netns {
			if strings.HasPrefix(ns.Name(), p) {
				t.Errorf("network namespace %s remains after Down", ns.Name())
			}
		}
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		for _, p := range s.links {
			if strings.HasPrefix(i.Name, p) {
				t.Errorf("link %s remains after Down", i.Name)
			}
		}
	}
}
