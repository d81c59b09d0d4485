// Package nethosttest starts node hosts (internal/testbed/nethost) for a test and removes them when the
// test ends, pass or fail.
package nethosttest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost"
)

// CreateTimeout bounds host creation (including installing missing Debian packages).
const CreateTimeout = 10 * time.Minute

// Start creates n hosts named node-0 … node-(n-1): node-0 is in group "servers", the others in
// group "agents" (K3s' roles). See StartConfig.
func Start(t testing.TB, n int) *nethost.Hosts {
	t.Helper()
	cfg := nethost.Config{Groups: map[string][]string{}}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node-%d", i)
		cfg.Names = append(cfg.Names, name)
		group := "agents"
		if i == 0 {
			group = "servers"
		}
		cfg.Groups[group] = append(cfg.Groups[group], name)
	}
	return StartConfig(t, cfg)
}

// StartConfig creates hosts from cfg. It skips the test under -short and when not running as root,
// fails it when creation fails, and destroys the hosts in t.Cleanup.
func StartConfig(t testing.TB, cfg nethost.Config) *nethost.Hosts {
	t.Helper()
	if testing.Short() {
		t.Skip("nethost: node hosts are slow (sshd per network namespace); skipped under -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("nethost: node hosts need root (network and mount namespaces, sshd); run the test as root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), CreateTimeout)
	defer cancel()
	hs, err := nethost.Create(ctx, cfg)
	if err != nil {
		t.Fatalf("create node hosts: %v", err)
	}
	t.Cleanup(func() {
		if err := hs.Destroy(); err != nil {
			t.Errorf("destroy node hosts %s: %v", hs.Prefix(), err)
		}
	})
	return hs
}
