package policy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// calico_remove's backup layout: one <resource>.<group>.yaml per kind, and a manifest.
const (
	backupManifestFile = "manifest.json"
	backupFormatPrefix = "cnimigrate.calico-backup/"
)

// collector gathers policies, network sets and the presence of Kubernetes NetworkPolicies from
// objects read anywhere, de-duplicating policies seen twice (a projectcalico.org/v3 copy is
// preferred over the crd.projectcalico.org/v1 object it is stored as).
type collector struct {
	in    Input
	index map[string]int // policy key → index in in.Policies
}

func newCollector() *collector {
	return &collector{index: map[string]int{}}
}

// add takes one object; origin says where it came from (for notes and errors).
func (c *collector) add(obj map[string]any, origin string) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	switch {
	case strings.HasSuffix(kind, "List"):
		items, _ := obj["items"].([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				if err := c.add(m, origin); err != nil {
					return err
				}
			}
		}
	case apiVersion == "networking.k8s.io/v1" && kind == KindNetworkPolicy:
		if c.in.K8sPolicyNamespaces == nil {
			c.in.K8sPolicyNamespaces = map[string]bool{}
		}
		md, _ := obj["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		c.in.K8sPolicyNamespaces[ns] = true
	case !IsCalicoAPIVersion(apiVersion):
	case kind == KindNetworkPolicy || kind == KindGlobalNetworkPolicy:
		p, err := DecodePolicy(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", origin, err)
		}
		c.addPolicy(p, origin)
	case kind == KindNetworkSet || kind == KindGlobalNetworkSet:
		s, err := DecodeNetworkSet(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", origin, err)
		}
		c.in.NetworkSets = append(c.in.NetworkSets, s)
	}
	return nil
}

func (c *collector) addPolicy(p Policy, origin string) {
	// crd.projectcalico.org/v1 stores default-tier policies as "default.<name>".
	if p.APIVersion == APIVersionV1 && (p.Spec.Tier == "" || p.Spec.Tier == "default") {
		p.Metadata.Name = strings.TrimPrefix(p.Metadata.Name, "default.")
	}
	ref := ObjectRef{Kind: p.Kind, Namespace: p.Metadata.Namespace, Name: p.Metadata.Name}
	key := ref.String()
	i, dup := c.index[key]
	if !dup {
		c.index[key] = len(c.in.Policies)
		c.in.Policies = append(c.in.Policies, p)
		return
	}
	kept := c.in.Policies[i]
	if kept.APIVersion == APIVersionV1 && p.APIVersion == APIVersionV3 {
		c.in.Policies[i], kept = p, p
	}
	c.in.Notes = append(c.in.Notes, Finding{Policy: key, Field: "metadata.name", Construct: origin,
		Reason: fmt.Sprintf("read twice; translated the %s copy", kept.APIVersion)})
}

// LoadBackup reads the Calico policies of a backup directory: every *.yaml and *.yml file in it
// (not in subdirectories), each holding "---"-separated objects or Lists. Objects that are not
// Calico policies, network sets or Kubernetes NetworkPolicies are skipped. Files are read in name
// order.
func LoadBackup(dir string) (Input, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Input{}, fmt.Errorf("read backup directory: %w", err)
	}
	c := newCollector()
	var files int
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		files++
		if err := c.readFile(filepath.Join(dir, e.Name())); err != nil {
			return Input{}, err
		}
	}
	if files == 0 {
		return Input{}, fmt.Errorf("backup directory %s has no *.yaml or *.yml files", dir)
	}
	if err := c.readManifest(dir); err != nil {
		return Input{}, err
	}
	return c.in, nil
}

// backupManifest is the part of calico_remove's backup manifest (manifest.json) read here: the
// kinds it holds. A backup that lists Kubernetes NetworkPolicies holds all of them, even none.
type backupManifest struct {
	Format string `json:"format"`
	Kinds  []struct {
		Group    string `json:"group"`
		Resource string `json:"resource"`
	} `json:"kinds"`
}

func (c *collector) readManifest(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, backupManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read backup manifest: %w", err)
	}
	var m backupManifest
	if err := json.Unmarshal(data, &m); err != nil || !strings.HasPrefix(m.Format, backupFormatPrefix) {
		return nil // not calico_remove's manifest: nothing to learn from it
	}
	for _, k := range m.Kinds {
		if k.Group == k8sPolicyResource.Group && k.Resource == k8sPolicyResource.Resource && c.in.K8sPolicyNamespaces == nil {
			c.in.K8sPolicyNamespaces = map[string]bool{}
		}
	}
	return nil
}

func (c *collector) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read backup file: %w", err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return fmt.Errorf("%s: document %d is not YAML: %w", path, n, err)
		}
		if len(obj) == 0 {
			continue // an empty document (comments only, or a trailing ---)
		}
		if err := c.add(obj, fmt.Sprintf("%s (document %d)", filepath.Base(path), n)); err != nil {
			return err
		}
	}
}
