package node_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// testHost is a throwaway node: its own network namespace plus its own mount namespace in which
// /var/lib, /var/log and /run are empty tmpfs, so the module's fixed paths (/var/lib/calico,
// /run/netns, K3s' containerd config) are the test's and nothing of the machine's is reachable.
// A sleeping process holds both namespaces; commands enter them with nsenter.
type testHost struct {
	ns  string
	pid int
}

var hostSeq atomic.Int32

func requireRootAndTools(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (network and mount namespaces)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("needs %s (listed in hack/deps.txt; run make deps): %v", tool, err)
		}
	}
}

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	h := &testHost{ns: fmt.Sprintf("cnmcal-%d-%d", os.Getpid(), hostSeq.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", h.ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", h.ns, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", h.ns).Run() })
	// ip netns exec and unshare both exec, so the process started is the sleeper itself.
	holder := exec.Command("ip", "netns", "exec", h.ns, "unshare", "-m", "--propagation", "private", "sleep", "infinity")
	if err := holder.Start(); err != nil {
		t.Fatalf("start namespace holder: %v", err)
	}
	t.Cleanup(func() { _ = holder.Process.Kill(); _ = holder.Wait() })
	h.pid = holder.Process.Pid
	err := wait.For(context.Background(), "the namespace holder to run sleep", 10*time.Second, 20*time.Millisecond,
		func(context.Context) (bool, string, error) {
			exe, err := os.Readlink("/proc/" + strconv.Itoa(h.pid) + "/exe")
			return strings.HasSuffix(exe, "/sleep"), exe, err
		})
	if err != nil {
		t.Fatal(err)
	}
	h.sh(t, "set -e; mount -t tmpfs tmpfs /var/lib; mount -t tmpfs tmpfs /var/log; mount -t tmpfs tmpfs /run; mkdir -p /run/netns; ip link set lo up")
	return h
}

// enter is the command prefix that runs something inside the host.
func (h *testHost) enter() []string {
	return []string{"nsenter", "-t", strconv.Itoa(h.pid), "-m", "-n", "--"}
}

// sh runs a shell script inside the host and returns its stdout; failure fails the test.
func (h *testHost) sh(t *testing.T, script string) string {
	t.Helper()
	argv := append(h.enter(), "sh", "-c", script)
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("in %s: %v\nscript: %s\nstderr: %s", h.ns, err, script, stderr.String())
	}
	return string(out)
}
