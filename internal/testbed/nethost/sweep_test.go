package nethost_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	osexec "os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost"
)

const helperEnv = "NETHOST_TEST_HELPER"

type helperReport struct {
	Prefix, Dir, NetNS string
}

// TestHelperCreateAndHang is not a test: TestIntegrationSweepAfterKill runs it in a child
// process that creates a host, reports it, and waits to be killed.
func TestHelperCreateAndHang(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestIntegrationSweepAfterKill")
	}
	hs, err := nethost.Create(context.Background(), nethost.Config{Names: []string{"crashy"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(helperReport{hs.Prefix(), hs.Dir(), hs.List()[0].NetNS})
	time.Sleep(time.Hour)
}

// TestIntegrationSweepAfterKill: when the owner is SIGKILLed (no Destroy, no t.Cleanup), sshd dies
// with it, and Cleanup removes the rest.
func TestIntegrationSweepAfterKill(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("needs root and is slow; skipped under -short")
	}
	cmd := osexec.Command(os.Args[0], "-test.run=^TestHelperCreateAndHang$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var rep helperReport
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if json.Unmarshal(sc.Bytes(), &rep) == nil && rep.Prefix != "" {
			break
		}
	}
	if rep.Prefix == "" {
		_ = cmd.Process.Kill()
		t.Fatalf("helper reported no hosts (wait: %v)", cmd.Wait())
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	ctx := context.Background()
	if !exists(ctx, "ip", "netns", "list", rep.NetNS) {
		t.Fatalf("netns %s vanished before the sweep: the test proves nothing", rep.NetNS)
	}
	waitNoProcs(t, ctx, rep.NetNS) // sshd died with its owner (PR_SET_PDEATHSIG)
	if err := nethost.Cleanup(rep.Prefix); err != nil {
		t.Fatalf("Cleanup(%s): %v", rep.Prefix, err)
	}
	if exists(ctx, "ip", "netns", "list", rep.NetNS) {
		t.Errorf("netns %s survived Cleanup", rep.NetNS)
	}
	if links, _ := command(ctx, "ip", "-o", "link"); strings.Contains(links, rep.Prefix+"-") {
		t.Errorf("links of %s survived Cleanup:\n%s", rep.Prefix, links)
	}
	if _, err := os.Stat(rep.Dir); !os.IsNotExist(err) {
		t.Errorf("work dir %s survived Cleanup (%v)", rep.Dir, err)
	}
	if err := nethost.Cleanup(rep.Prefix); err != nil {
		t.Errorf("second Cleanup must succeed like rm -f: %v", err)
	}
}

// exists reports whether the command's output names its last argument.
func exists(ctx context.Context, argv ...string) bool {
	out, _ := command(ctx, argv[:len(argv)-1]...)
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == argv[len(argv)-1] {
			return true
		}
	}
	return false
}

func waitNoProcs(t *testing.T, ctx context.Context, ns string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := command(ctx, "ip", "netns", "pids", ns)
		if err == nil && strings.TrimSpace(out) == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %q still run in %s after their owner was killed", out, ns)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
