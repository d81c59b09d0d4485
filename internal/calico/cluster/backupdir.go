package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// backupAction is what a run does with its backup dir.
type backupAction int

const (
	backupWrite backupAction = iota // write a new backup (or a new generation of it)
	backupReuse                     // the dir already holds a backup covering the cluster
)

// backupPlan is what prepareBackup decided: the action, the backup found (all its generations
// merged; nil if none), and where a new backup goes with which generation number.
type backupPlan struct {
	action     backupAction
	existing   *Backup
	dir        string
	generation int
}

// prepareBackup decides, without writing anything, what to do with dir: write a new backup (dir
// absent, empty, or left incomplete by an interrupted run), reuse the backup it holds (its
// generations together cover every object of snapshot), write a new generation of it (a removal
// of the same cluster resumed after Calico's objects changed), or refuse (unwritable, a backup of
// another cluster, a damaged backup, other files).
func prepareBackup(dir string, snapshot []KindObjects, clusterUID string) (backupPlan, error) {
	if dir == "" {
		return backupPlan{}, errors.New("backup_dir is required: Calico is never removed without a backup")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return backupPlan{action: backupWrite, dir: dir, generation: 1}, writableAncestor(dir)
	case err != nil:
		return backupPlan{}, fmt.Errorf("backup_dir %s: %w", dir, err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	switch {
	case names[manifestFile]:
		gens, next, err := generations(dir)
		if err != nil {
			return backupPlan{}, fmt.Errorf("backup_dir %s holds a damaged backup (not overwritten; choose another dir): %w", dir, err)
		}
		b := merge(gens)
		ok, why := b.covers(snapshot)
		if ok {
			return backupPlan{action: backupReuse, existing: b}, nil
		}
		first := gens[0].Manifest.ClusterUID
		if first == "" || first != clusterUID {
			of := "of another cluster"
			if first == "" || clusterUID == "" {
				of = "with no cluster id to match"
			}
			return backupPlan{}, fmt.Errorf("backup_dir %s already holds a different backup %s (%s); it is not overwritten: "+
				"choose an empty or new directory", dir, of, why)
		}
		// The same cluster, changed since: a new generation inside it, the older ones kept.
		gen := filepath.Join(dir, fmt.Sprintf("%s%d", genPrefix, next))
		if err := writableAncestor(gen); err != nil {
			return backupPlan{}, err
		}
		return backupPlan{action: backupWrite, existing: b, dir: gen, generation: next}, nil
	case len(entries) > 0 && !names[markerFile]:
		return backupPlan{}, fmt.Errorf("backup_dir %s is not empty and holds no backup: choose an empty or new directory", dir)
	}
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return backupPlan{}, fmt.Errorf("backup_dir %s is not writable: %w", dir, err)
	}
	return backupPlan{action: backupWrite, dir: dir, generation: 1}, nil
}

// generations reads every complete generation of the backup in dir, oldest first, each verified,
// and the number the next generation takes. A generation dir left incomplete by an interrupted run
// (marker, no manifest) is not a generation: the next one is written into it.
func generations(dir string) (gens []*Backup, next int, err error) {
	first, err := readBackup(dir)
	if err != nil {
		return nil, 0, err
	}
	gens = []*Backup{first}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("backup_dir %s: %w", dir, err)
	}
	var nums []int
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), genPrefix))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), genPrefix) || err != nil || n < 2 {
			continue
		}
		nums = append(nums, n)
	}
	sort.Ints(nums)
	next = 2
	for i, n := range nums {
		gd := filepath.Join(dir, fmt.Sprintf("%s%d", genPrefix, n))
		if _, err := os.Stat(filepath.Join(gd, manifestFile)); errors.Is(err, os.ErrNotExist) {
			_, merr := os.Stat(filepath.Join(gd, markerFile))
			entries, _ := os.ReadDir(gd)
			if i == len(nums)-1 && (merr == nil || len(entries) == 0) {
				return gens, n, nil // interrupted while written (or just made): continue into it
			}
			return nil, 0, fmt.Errorf("generation %s holds no manifest", gd)
		}
		b, err := readBackup(gd)
		if err != nil {
			return nil, 0, fmt.Errorf("generation %s: %w", gd, err)
		}
		gens = append(gens, b)
		next = n + 1
	}
	return gens, next, nil
}

// readAll reads the backup in dir with every generation merged (see merge).
func readAll(dir string) (*Backup, error) {
	gens, _, err := generations(dir)
	if err != nil {
		return nil, err
	}
	return merge(gens), nil
}

// merge is what the generations hold together: every object of every generation, the newest
// generation's copy where several hold it (its state when the resumed removal began). Objects
// only an older generation holds were deleted by the run that wrote it, and are kept from it.
func merge(gens []*Backup) *Backup {
	if len(gens) == 1 {
		return gens[0]
	}
	newest := gens[len(gens)-1]
	out := &Backup{Dir: gens[0].Dir, Manifest: newest.Manifest}
	out.Manifest.Kinds = nil
	index := map[string]int{} // resource name -> index in out.Kinds
	seen := map[string]bool{}
	for i := len(gens) - 1; i >= 0; i-- {
		for _, ko := range gens[i].Kinds {
			k, ok := index[resName(ko.GVR)]
			if !ok {
				k = len(out.Kinds)
				index[resName(ko.GVR)] = k
				out.Kinds = append(out.Kinds, KindObjects{GVR: ko.GVR, Kind: ko.Kind, Namespaced: ko.Namespaced})
			}
			for j := range ko.Objects {
				if id := key(ko.GVR, &ko.Objects[j]); !seen[id] {
					seen[id] = true
					out.Kinds[k].Objects = append(out.Kinds[k].Objects, ko.Objects[j])
				}
			}
		}
	}
	for _, ko := range out.Kinds {
		out.Manifest.Kinds = append(out.Manifest.Kinds, KindEntry{Group: ko.GVR.Group, Version: ko.GVR.Version,
			Resource: ko.GVR.Resource, Kind: ko.Kind, Namespaced: ko.Namespaced, Count: len(ko.Objects)})
	}
	return out
}

// writableAncestor checks that a missing dir can be created: its nearest existing ancestor must be
// a writable directory.
func writableAncestor(dir string) error {
	for p := filepath.Dir(filepath.Clean(dir)); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("backup_dir %s cannot be created: %s is not a directory", dir, p)
			}
			if err := unix.Access(p, unix.W_OK|unix.X_OK); err != nil {
				return fmt.Errorf("backup_dir %s cannot be created in %s: %w", dir, p, err)
			}
			return nil
		}
		if p == filepath.Dir(p) {
			return fmt.Errorf("backup_dir %s: no existing parent directory", dir)
		}
	}
}

// writeBackup writes snapshot to dir (0700, files 0600), manifest last, syncs every file and
// directory to disk, then reads it all back and checks it against the snapshot. Only a backup that
// passes is returned.
func writeBackup(dir string, m Manifest, snapshot []KindObjects) (*Backup, error) {
	top := nearestExisting(dir)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("create backup_dir: %w", err)
	}
	if err := os.Chmod(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("backup_dir: %w", err)
	}
	if err := writeFile(dir, markerFile, []byte("a backup is being written\n")); err != nil {
		return nil, err
	}
	m.Format, m.Created, m.Kinds = backupFormat, time.Now().UTC().Format(time.RFC3339), nil
	for _, ko := range snapshot {
		e := KindEntry{Group: ko.GVR.Group, Version: ko.GVR.Version, Resource: ko.GVR.Resource, Kind: ko.Kind,
			Namespaced: ko.Namespaced, Count: len(ko.Objects)}
		if e.Count > 0 {
			data, err := encodeKind(ko)
			if err != nil {
				return nil, err
			}
			e.File, e.SHA256 = fileName(ko.GVR), sum(data)
			if err := writeFile(dir, e.File, data); err != nil {
				return nil, err
			}
		}
		m.Kinds = append(m.Kinds, e)
	}
	data, err := jsonIndent(m)
	if err != nil {
		return nil, err
	}
	if err := writeFile(dir, manifestFile, data); err != nil {
		return nil, err
	}
	// Each file was synced before its rename; the renames, and the directories made for the
	// backup, last through a crash only once the directories are synced too.
	if err := syncDirs(dir, top); err != nil {
		return nil, err
	}
	b, err := readBackup(dir)
	if err != nil {
		return nil, fmt.Errorf("backup verification failed, nothing was deleted: %w", err)
	}
	if ok, why := b.covers(snapshot); !ok || len(b.Kinds) != len(snapshot) {
		return nil, fmt.Errorf("backup verification failed, nothing was deleted: %s", why)
	}
	if err := os.Remove(filepath.Join(dir, markerFile)); err != nil {
		return nil, fmt.Errorf("backup_dir: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return b, nil
}

// syncDir flushes a directory's entries to disk. A variable so that a test can see it happen.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync backup directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync backup directory %s: %w", dir, err)
	}
	return nil
}

// syncDirs syncs dir and each of its parents up to top.
func syncDirs(dir, top string) error {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if err := syncDir(p); err != nil {
			return err
		}
		if p == top || p == filepath.Dir(p) {
			return nil
		}
	}
}

// nearestExisting returns dir if it exists, else its nearest existing ancestor.
func nearestExisting(dir string) string {
	p := filepath.Clean(dir)
	for {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			return p
		}
		p = filepath.Dir(p)
	}
}

// writeFile writes through a temp file and a rename, so a file is either whole or absent.
func writeFile(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write backup file %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(filePerm); err != nil {
		tmp.Close()
		return fmt.Errorf("write backup file %s: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write backup file %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write backup file %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write backup file %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write backup file %s: %w", name, err)
	}
	return nil
}
