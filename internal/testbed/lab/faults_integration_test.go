package lab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
)

// small is the quickest lab: no node hosts (no root needed), no Calico, no workloads.
func small() lab.Config {
	cfg := lab.Defaults()
	cfg.Servers, cfg.Agents, cfg.Hosts, cfg.Calico, cfg.Workloads = 1, 0, false, lab.CalicoNone, false
	return cfg
}

func TestIntegrationLabFaults(t *testing.T) {
	running := labtest.Start(t, small())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("second up with the same name", func(t *testing.T) {
		cfg := small()
		cfg.Name, cfg.WorkDir = running.Name(), running.WorkDir()
		_, err := lab.Up(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("want 'already exists', got %v", err)
		}
		if _, err := os.Stat(filepath.Join(running.WorkDir(), lab.KubeconfigName)); err != nil {
			t.Fatalf("the failed second up damaged the running lab: %v", err)
		}
	})
	t.Run("port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		cfg := small()
		cfg.Name = fmt.Sprintf("port%d", os.Getpid())
		cfg.WorkDir = filepath.Join(t.TempDir(), "lab")
		cfg.APIServerPort = l.Addr().(*net.TCPAddr).Port
		_, err = lab.Up(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "not free") {
			t.Fatalf("want a 'port … not free' error, got %v", err)
		}
		assertNothingLeft(t, cfg.WorkDir)
	})
	t.Run("unwritable work dir", func(t *testing.T) {
		cfg := small()
		cfg.Name = fmt.Sprintf("ro%d", os.Getpid())
		cfg.WorkDir = "/proc/lab/x"
		_, err := lab.Up(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "work dir") {
			t.Fatalf("want a work dir error, got %v", err)
		}
	})
	t.Run("tools missing", func(t *testing.T) {
		cfg := small()
		cfg.Name = fmt.Sprintf("nt%d", os.Getpid())
		cfg.WorkDir = filepath.Join(t.TempDir(), "lab")
		cfg.ToolsDir = t.TempDir()
		_, err := lab.Up(ctx, cfg)
		if err == nil || !strings.Contains(err.Error(), "make tools") {
			t.Fatalf("want a missing-tools error pointing at make tools, got %v", err)
		}
		if _, err := os.Stat(cfg.WorkDir); !os.IsNotExist(err) {
			t.Errorf("a failed up left its work dir behind")
		}
	})
}

// TestIntegrationLabCrash kills a process in the middle of Up (after node hosts and control plane
// are running) and checks that DownDir, from the state file alone, removes everything.
func TestIntegrationLabCrash(t *testing.T) {
	if dir := os.Getenv("LAB_CRASH_HELPER"); dir != "" {
		cfg := lab.Defaults()
		cfg.Name, cfg.WorkDir, cfg.Hosts = filepath.Base(dir), dir, os.Geteuid() == 0
		_, err := lab.Up(context.Background(), cfg)
		t.Fatalf("helper: Up returned (%v) before it was killed", err)
	}
	if testing.Short() {
		t.Skip("starts a lab")
	}
	dir := filepath.Join(labtest.Root(), fmt.Sprintf("crash%d", os.Getpid()))
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntegrationLabCrash$", "-test.v")
	cmd.Env = append(os.Environ(), "LAB_CRASH_HELPER="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // whatever happens, leave nothing behind
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = lab.DownDir(context.Background(), dir)
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st, err := lab.ReadState(dir)
		// Steps run side by side: the stage's Step names them all, e.g. "…, node-host files, calico".
		if err == nil && (strings.Contains(st.Step, "calico") || strings.Contains(st.Step, "workloads")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper never reached the calico step (state %+v, %v)", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_, _ = cmd.Process.Wait()
	st, err := lab.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !lab.Stale(st) {
		t.Fatalf("state of a killed Up is not stale: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := lab.DownDir(ctx, dir); err != nil {
		t.Fatalf("DownDir after crash: %v", err)
	}
	assertNothingLeft(t, dir)
	if st.Hosts != nil {
		assertNoNetns(t, st)
	}
}

func assertNothingLeft(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("work dir %s left behind (%v)", dir, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), dir) {
			t.Errorf("process %s left behind: %q", p, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

func assertNoNetns(t *testing.T, st *lab.State) {
	t.Helper()
	var rec struct{ Prefix string }
	_ = json.Unmarshal(st.Hosts.Harness, &rec)
	prefix := rec.Prefix
	if prefix == "" {
		t.Fatalf("no node-host prefix in state: %s", st.Hosts.Harness)
	}
	nss, _ := os.ReadDir("/run/netns")
	for _, ns := range nss {
		if strings.HasPrefix(ns.Name(), prefix+"-") {
			t.Errorf("network namespace %s left behind", ns.Name())
		}
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		if strings.HasPrefix(i.Name, prefix+"-") {
			t.Errorf("link %s left behind", i.Name)
		}
	}
}
