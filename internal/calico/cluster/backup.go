package cluster

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Backup layout: one multi-document YAML file per kind, manifest.json last. The marker exists only
// while a backup is being written: a dir holding it was left by an interrupted run and is ours.
// A removal resumed after Calico's objects changed (IPAM blocks do, as pods come and go) writes a
// new generation of the same cluster's backup inside the first: gen-2/, gen-3/, … each laid out
// like the first (see generations).
const (
	manifestFile = "manifest.json"
	markerFile   = ".calico-backup-incomplete"
	genPrefix    = "gen-"
	backupFormat = "cnimigrate.calico-backup/v1"
	filePerm     = 0o600
	dirPerm      = 0o700
)

// Manifest describes a backup: what it holds, per kind, and each file's checksum.
type Manifest struct {
	Format        string `json:"format"`
	Created       string `json:"created"`
	Flavour       string `json:"flavour"`
	CalicoVersion string `json:"calico_version"`
	// ClusterUID is the UID of the cluster's kube-system namespace: a later generation is written
	// only into a backup of the same cluster.
	ClusterUID string `json:"cluster_uid,omitempty"`
	// Generation is 1 for the backup in backup_dir itself, N for the one in backup_dir/gen-N.
	Generation int         `json:"generation,omitempty"`
	Kinds      []KindEntry `json:"kinds"`
}

// KindEntry is one kind in a backup.
type KindEntry struct {
	Group      string `json:"group"`
	Version    string `json:"version"`
	Resource   string `json:"resource"`
	Kind       string `json:"kind"`
	Namespaced bool   `json:"namespaced"`
	Count      int    `json:"count"`
	File       string `json:"file"`
	SHA256     string `json:"sha256"`
}

func (e KindEntry) gvr() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: e.Group, Version: e.Version, Resource: e.Resource}
}

// Backup is a backup read from disk and verified.
type Backup struct {
	Dir      string
	Manifest Manifest
	Kinds    []KindObjects
}

func fileName(gvr schema.GroupVersionResource) string {
	group := gvr.Group
	if group == "" {
		group = "core"
	}
	return gvr.Resource + "." + group + ".yaml"
}

// encodeKind renders the objects of a kind as multi-document YAML.
func encodeKind(ko KindObjects) ([]byte, error) {
	var buf bytes.Buffer
	for i := range ko.Objects {
		doc, err := yaml.Marshal(ko.Objects[i].Object)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", refOf(ko.GVR, &ko.Objects[i]), err)
		}
		buf.WriteString("---\n")
		buf.Write(doc)
	}
	return buf.Bytes(), nil
}

// decodeKind parses multi-document YAML into objects.
func decodeKind(data []byte) ([]unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, err
		}
		if obj == nil {
			continue
		}
		out = append(out, unstructured.Unstructured{Object: obj})
	}
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// readBackup reads a backup and verifies it against its manifest: every file present, its
// checksum, that it parses, and that it holds the counted number of objects.
func readBackup(dir string) (*Backup, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, fmt.Errorf("read backup manifest: %w", err)
	}
	b := &Backup{Dir: dir}
	if err := json.Unmarshal(data, &b.Manifest); err != nil {
		return nil, fmt.Errorf("backup manifest %s: %w", filepath.Join(dir, manifestFile), err)
	}
	if b.Manifest.Format != backupFormat {
		return nil, fmt.Errorf("backup manifest %s: format %q, want %q", filepath.Join(dir, manifestFile), b.Manifest.Format, backupFormat)
	}
	for _, e := range b.Manifest.Kinds {
		ko := KindObjects{GVR: e.gvr(), Kind: e.Kind, Namespaced: e.Namespaced}
		if e.Count > 0 {
			if ko.Objects, err = readKindFile(dir, e); err != nil {
				return nil, err
			}
		}
		b.Kinds = append(b.Kinds, ko)
	}
	return b, nil
}

func readKindFile(dir string, e KindEntry) ([]unstructured.Unstructured, error) {
	if e.File == "" || strings.ContainsAny(e.File, `/\`) {
		return nil, fmt.Errorf("backup manifest names file %q for %s: not a file in the backup dir", e.File, e.Kind)
	}
	path := filepath.Join(dir, e.File)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("backup of %s: %w", e.Kind, err)
	}
	if got := sum(data); got != e.SHA256 {
		return nil, fmt.Errorf("backup file %s: sha256 %s, manifest says %s", path, got, e.SHA256)
	}
	objs, err := decodeKind(data)
	if err != nil {
		return nil, fmt.Errorf("backup file %s does not parse: %w", path, err)
	}
	if len(objs) != e.Count {
		return nil, fmt.Errorf("backup file %s holds %d objects, manifest says %d", path, len(objs), e.Count)
	}
	return objs, nil
}

// key identifies an object across API versions: group, resource, namespace, name.
func key(gvr schema.GroupVersionResource, u *unstructured.Unstructured) string {
	return resName(gvr) + "/" + u.GetNamespace() + "/" + u.GetName()
}

// covers reports whether a backup holds every object of a snapshot, unchanged. A backup made by an
// earlier, interrupted run covers what is left; it need not hold only that. why names the first
// object that is missing or differs.
func (b *Backup) covers(snapshot []KindObjects) (ok bool, why string) {
	have := map[string]*unstructured.Unstructured{}
	for _, ko := range b.Kinds {
		for i := range ko.Objects {
			have[key(ko.GVR, &ko.Objects[i])] = &ko.Objects[i]
		}
	}
	for _, ko := range snapshot {
		for i := range ko.Objects {
			k := key(ko.GVR, &ko.Objects[i])
			old, found := have[k]
			switch {
			case !found:
				return false, k + " is not in it"
			case !sameObject(old, &ko.Objects[i]):
				return false, k + " differs from it"
			}
		}
	}
	return true, ""
}

func jsonIndent(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode backup manifest: %w", err)
	}
	return append(data, '\n'), nil
}
