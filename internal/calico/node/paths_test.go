package node

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestExistingPathsTakesCalicoConfigSetAsideByCilium: Cilium's agent (cni.exclusive) renames
// Calico's config to 10-calico.conflist.cilium_bak; Cilium's uninstall renames it back, so the
// cleanup must remove it, and leave alone Cilium's config and other CNIs' set-aside configs.
func TestExistingPathsTakesCalicoConfigSetAsideByCilium(t *testing.T) {
	t.Parallel()
	conf, bin := t.TempDir(), t.TempDir()
	for _, f := range []string{"05-cilium.conflist", "10-calico.conflist.cilium_bak", "10-calico.conf.cilium_bak",
		"87-podman-bridge.conflist.cilium_bak", "calico-kubeconfig"} {
		if err := os.WriteFile(filepath.Join(conf, f), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got := existingPaths(CNIDirs{Conf: []string{conf}, Bin: []string{bin}}, owner{ConfFiles: calicoOwner.ConfFiles, BinFiles: calicoOwner.BinFiles}, map[string]bool{})
	want := []Path{
		{Path: filepath.Join(conf, "10-calico.conflist.cilium_bak")},
		{Path: filepath.Join(conf, "10-calico.conf.cilium_bak")},
		{Path: filepath.Join(conf, "calico-kubeconfig")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths planned for removal:\n got %v\nwant %v", got, want)
	}
}
