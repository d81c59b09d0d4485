package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func manifestSnapshot(t *testing.T) []KindObjects {
	t.Helper()
	inv, err := discover(context.Background(), newDynamic(manifestCluster()...))
	mustNot(t, err)
	return inv.snapshot()
}

func TestBackupRoundTrip(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "backup")
	snap := manifestSnapshot(t)
	b, err := writeBackup(dir, Manifest{Flavour: "manifest", CalicoVersion: "v3.28.5"}, snap)
	mustNot(t, err)
	counts := map[string]int{}
	for _, e := range b.Manifest.Kinds {
		counts[e.Resource+"."+e.Group] = e.Count
		if e.Count > 0 && (len(e.SHA256) != 64 || e.File == "") {
			t.Errorf("kind %s: file %q sha256 %q", e.Kind, e.File, e.SHA256)
		}
	}
	for k, want := range map[string]int{
		"customresourcedefinitions.apiextensions.k8s.io": 3, "ippools.crd.projectcalico.org": 1,
		"networkpolicies.crd.projectcalico.org": 1, "networkpolicies.networking.k8s.io": 1,
		"daemonsets.apps": 1, "clusterroles.rbac.authorization.k8s.io": 1,
	} {
		if counts[k] != want {
			t.Errorf("manifest counts %d %s, want %d (all counts: %v)", counts[k], k, want, counts)
		}
	}
	st, err := os.Stat(dir)
	mustNot(t, err)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("backup dir mode %v, want 0700", st.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	mustNot(t, err)
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("%s left behind after a complete backup", e.Name())
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "daemonsets.apps.yaml"))
	mustNot(t, err)
	for _, gone := range []string{"resourceVersion", "uid:", "managedFields", "creationTimestamp", "status:"} {
		if strings.Contains(string(data), gone) {
			t.Errorf("backup keeps server field %q:\n%s", gone, data)
		}
	}
	if !strings.Contains(string(data), "docker.io/calico/node:v3.28.5") {
		t.Errorf("backup lost the spec:\n%s", data)
	}
	again, err := readBackup(dir)
	mustNot(t, err)
	if ok, why := again.covers(snap); !ok {
		t.Errorf("a backup read back does not cover its own snapshot: %s", why)
	}
}

func TestReadBackupDetectsDamage(t *testing.T) {
	t.Parallel()
	cases := map[string]func(dir string){
		"edited file": func(dir string) {
			mustNot(t, os.WriteFile(filepath.Join(dir, "ippools.crd.projectcalico.org.yaml"), []byte("---\nkind: IPPool\n"), 0o600))
		},
		"missing file": func(dir string) { mustNot(t, os.Remove(filepath.Join(dir, "configmaps.core.yaml"))) },
		"broken manifest": func(dir string) {
			mustNot(t, os.WriteFile(filepath.Join(dir, manifestFile), []byte("{"), 0o600))
		},
	}
	for name, damage := range cases {
		dir := t.TempDir()
		_, err := writeBackup(dir, Manifest{}, manifestSnapshot(t))
		mustNot(t, err)
		damage(dir)
		if _, err := readBackup(dir); err == nil {
			t.Errorf("%s: a damaged backup verified", name)
		}
	}
}

func TestPrepareBackup(t *testing.T) {
	t.Parallel()
	snap := manifestSnapshot(t)
	changed := manifestSnapshot(t)
	for i := range changed {
		if changed[i].GVR.Resource == "configmaps" {
			changed[i].Objects[0].Object["data"] = map[string]any{"calico_backend": "bird"}
		}
	}
	file := filepath.Join(t.TempDir(), "a-file")
	mustNot(t, os.WriteFile(file, nil, 0o600))
	cases := []struct {
		name    string
		setup   func(dir string)
		want    backupAction
		wantErr string
	}{
		{name: "absent dir", want: backupWrite},
		{name: "empty dir", setup: func(dir string) { mustNot(t, os.Mkdir(dir, 0o700)) }, want: backupWrite},
		{name: "interrupted backup", want: backupWrite, setup: func(dir string) {
			mustNot(t, os.Mkdir(dir, 0o700))
			mustNot(t, os.WriteFile(filepath.Join(dir, markerFile), nil, 0o600))
			mustNot(t, os.WriteFile(filepath.Join(dir, "ippools.crd.projectcalico.org.yaml"), nil, 0o600))
		}},
		{name: "same backup", want: backupReuse, setup: func(dir string) {
			_, err := writeBackup(dir, Manifest{}, snap)
			mustNot(t, err)
		}},
		{name: "different backup", wantErr: "already holds a different backup", setup: func(dir string) {
			_, err := writeBackup(dir, Manifest{}, changed)
			mustNot(t, err)
		}},
		{name: "damaged backup", wantErr: "damaged backup", setup: func(dir string) {
			_, err := writeBackup(dir, Manifest{}, snap)
			mustNot(t, err)
			mustNot(t, os.WriteFile(filepath.Join(dir, "daemonsets.apps.yaml"), []byte("x"), 0o600))
		}},
		{name: "other files", wantErr: "not empty and holds no backup", setup: func(dir string) {
			mustNot(t, os.Mkdir(dir, 0o700))
			mustNot(t, os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600))
		}},
	}
	for _, c := range cases {
		dir := filepath.Join(t.TempDir(), "backup")
		if c.setup != nil {
			c.setup(dir)
		}
		bp, err := prepareBackup(dir, snap, "uid-1")
		got := bp.action
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.wantErr)
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("%s: action %v, error %v; want action %v", c.name, got, err, c.want)
		}
	}
	if _, err := prepareBackup(filepath.Join(file, "backup"), snap, "uid-1"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("backup_dir under a file: error %v, want a clear failure", err)
	}
	if _, err := prepareBackup("", snap, "uid-1"); err == nil {
		t.Error("an empty backup_dir was accepted")
	}
}

func TestBackupCoversWhatIsLeftAfterAnInterruptedRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snap := manifestSnapshot(t)
	_, err := writeBackup(dir, Manifest{}, snap)
	mustNot(t, err)
	left := manifestSnapshot(t)
	for i := range left {
		if left[i].GVR == gvrDaemonSet {
			left[i].Objects = nil // removed by the interrupted run
		}
	}
	if bp, err := prepareBackup(dir, left, ""); err != nil || bp.action != backupReuse {
		t.Errorf("the backup of an interrupted run must be reused for what is left: %v %v", bp.action, err)
	}
}

// TestResumedRemovalWritesANewGeneration: a removal interrupted after its backup, resumed once
// Calico's objects changed (an IPAM block, as pods come and go), backs the changed state up into a
// new generation of the same backup (gen-2/), not refusing; the restore then holds the newest copy
// of each object and what only the first generation had. A backup of another cluster, or one made
// with no cluster id, is still refused.
func TestResumedRemovalWritesANewGeneration(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "backup")
	snap := manifestSnapshot(t)
	_, err := writeBackup(dir, Manifest{ClusterUID: "uid-1", Generation: 1}, snap)
	mustNot(t, err)

	// The interrupted run deleted the DaemonSets; then calico-config changed.
	left := manifestSnapshot(t)
	for i := range left {
		switch left[i].GVR.Resource {
		case "daemonsets":
			left[i].Objects = nil
		case "configmaps":
			left[i].Objects[0].Object["data"] = map[string]any{"calico_backend": "vxlan", "changed": "yes"}
		}
	}
	bp, err := prepareBackup(dir, left, "uid-1")
	if err != nil || bp.action != backupWrite || bp.generation != 2 || bp.dir != filepath.Join(dir, "gen-2") {
		t.Fatalf("resumed removal: plan %+v, error %v; want a new generation in gen-2", bp, err)
	}
	for name, uid := range map[string]string{"another cluster": "uid-2", "no cluster id": ""} {
		if _, err := prepareBackup(dir, left, uid); err == nil || !strings.Contains(err.Error(), "different backup") {
			t.Errorf("%s: error %v, want a refusal", name, err)
		}
	}
	// Interrupted right after making gen-2 (empty), then while writing it: the next run writes into it.
	mustNot(t, os.Mkdir(bp.dir, 0o700))
	if again, err := prepareBackup(dir, left, "uid-1"); err != nil || again.dir != bp.dir {
		t.Fatalf("after an empty generation dir: plan %+v, error %v", again, err)
	}
	mustNot(t, os.WriteFile(filepath.Join(bp.dir, markerFile), nil, 0o600))
	if again, err := prepareBackup(dir, left, "uid-1"); err != nil || again.dir != bp.dir {
		t.Fatalf("after an interrupted generation: plan %+v, error %v", again, err)
	}
	_, err = writeBackup(bp.dir, Manifest{ClusterUID: "uid-1", Generation: 2}, left)
	mustNot(t, err)

	if again, err := prepareBackup(dir, left, "uid-1"); err != nil || again.action != backupReuse {
		t.Errorf("after gen-2 was written: plan %+v, error %v; want it reused", again, err)
	}
	all, err := readAll(dir)
	mustNot(t, err)
	var sawDS, sawCM bool
	for _, ko := range all.Kinds {
		for i := range ko.Objects {
			switch key(ko.GVR, &ko.Objects[i]) {
			case "daemonsets.apps/kube-system/calico-node":
				sawDS = true // only generation 1 holds it
			case "configmaps/kube-system/calico-config":
				sawCM = true
				if d, _, _ := unstructured.NestedStringMap(ko.Objects[i].Object, "data"); d["changed"] != "yes" {
					t.Errorf("calico-config from an older generation: %v", d)
				}
			}
		}
	}
	if !sawDS || !sawCM {
		t.Errorf("merged generations lack calico-node (%v) or calico-config (%v)", sawDS, sawCM)
	}
	// A damaged later generation makes the whole backup untrusted.
	mustNot(t, os.WriteFile(filepath.Join(bp.dir, "configmaps.core.yaml"), []byte("x"), 0o600))
	if _, err := prepareBackup(dir, left, "uid-1"); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged gen-2: error %v", err)
	}
}

// TestBackupIsOnDiskBeforeItIsReportedVerified: every rename into the backup directory, and the
// directories made for it, are synced to disk before writeBackup returns the backup as verified,
// so a crash of the node right after cannot lose a backup the removal then relies on. (Not
// parallel: it watches the package's syncDir.)
func TestBackupIsOnDiskBeforeItIsReportedVerified(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cnimigrate", "backup")
	type dirSync struct {
		dir              string
		manifest, marker bool
	}
	var syncs []dirSync
	orig := syncDir
	syncDir = func(d string) error {
		_, errM := os.Stat(filepath.Join(d, manifestFile))
		_, errK := os.Stat(filepath.Join(d, markerFile))
		syncs = append(syncs, dirSync{d, errM == nil, errK == nil})
		return orig(d)
	}
	t.Cleanup(func() { syncDir = orig })
	if _, err := writeBackup(dir, Manifest{Flavour: "manifest"}, manifestSnapshot(t)); err != nil {
		t.Fatal(err)
	}
	var withManifest, afterMarker bool
	parents := map[string]bool{}
	for _, s := range syncs {
		withManifest = withManifest || (s.dir == dir && s.manifest)
		afterMarker = afterMarker || (s.dir == dir && s.manifest && !s.marker)
		parents[s.dir] = true
	}
	if !withManifest {
		t.Errorf("the backup directory was not synced after its files were renamed into it (syncs: %+v)", syncs)
	}
	if !afterMarker {
		t.Errorf("the backup directory was not synced after the in-progress marker was removed (syncs: %+v)", syncs)
	}
	for _, p := range []string{filepath.Dir(dir), root} {
		if !parents[p] {
			t.Errorf("%s, where a directory of the backup was created, was not synced (syncs: %+v)", p, syncs)
		}
	}
}
