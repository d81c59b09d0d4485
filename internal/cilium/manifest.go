package cilium

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// ManifestSummary says which objects a change adds, changes and removes, as Kind/namespace/name.
type ManifestSummary struct {
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
}

type manifestObject struct {
	body          map[string]any
	nonIdempotent bool
}

// parseManifest indexes a Helm manifest (documents separated by ---) by Kind/namespace/name.
func parseManifest(manifest, namespace string) (map[string]manifestObject, error) {
	out := map[string]manifestObject{}
	for _, doc := range releaseutil.SplitManifests(manifest) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("parse manifest document: %w", err)
		}
		if len(obj) == 0 {
			continue
		}
		kind, _ := obj["kind"].(string)
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		ns, _ := meta["namespace"].(string)
		if ns == "" && !clusterScoped(kind) {
			ns = namespace
		}
		labels, _ := meta["labels"].(map[string]any)
		nonIdem := fmt.Sprint(labels[defaults.CiliumNonIdempotentLabel]) == "true"
		out[objectKey(kind, ns, name)] = manifestObject{body: obj, nonIdempotent: nonIdem}
	}
	return out, nil
}

func objectKey(kind, ns, name string) string {
	if ns == "" {
		return kind + "/" + name
	}
	return kind + "/" + ns + "/" + name
}

// clusterScoped covers the cluster-scoped kinds the Cilium chart renders.
func clusterScoped(kind string) bool {
	switch kind {
	case "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "IngressClass",
		"GatewayClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "APIService":
		return true
	}
	return false
}

// summarizeManifests compares two manifests. Objects the chart regenerates on every render
// (cilium.io/helm-template-non-idempotent: TLS secrets) count as changed only when more than their
// data differs: Helm keeps the existing certificates through lookup at apply time.
func summarizeManifests(before, after, namespace string) (*ManifestSummary, error) {
	b, err := parseManifest(before, namespace)
	if err != nil {
		return nil, fmt.Errorf("deployed manifest: %w", err)
	}
	a, err := parseManifest(after, namespace)
	if err != nil {
		return nil, fmt.Errorf("desired manifest: %w", err)
	}
	s := &ManifestSummary{Added: []string{}, Changed: []string{}, Removed: []string{}}
	for key, ao := range a {
		bo, ok := b[key]
		switch {
		case !ok:
			s.Added = append(s.Added, key)
		case ao.nonIdempotent && bo.nonIdempotent:
			if !reflect.DeepEqual(withoutData(ao.body), withoutData(bo.body)) {
				s.Changed = append(s.Changed, key)
			}
		case !reflect.DeepEqual(ao.body, bo.body):
			s.Changed = append(s.Changed, key)
		}
	}
	for key := range b {
		if _, ok := a[key]; !ok {
			s.Removed = append(s.Removed, key)
		}
	}
	sort.Strings(s.Added)
	sort.Strings(s.Changed)
	sort.Strings(s.Removed)
	return s, nil
}

func withoutData(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "data" && k != "stringData" {
			out[k] = v
		}
	}
	return out
}

// empty reports a summary without any change.
func (s *ManifestSummary) empty() bool {
	return s == nil || len(s.Added)+len(s.Changed)+len(s.Removed) == 0
}

// diffText renders the summary for Ansible's diff: the deployed objects before, the desired ones
// after, changed objects marked, so the unified diff shows additions, removals and changes.
func (s *ManifestSummary) diffText(before, after string, namespace string) (string, string) {
	b, _ := parseManifest(before, namespace)
	a, _ := parseManifest(after, namespace)
	changed := map[string]bool{}
	for _, k := range s.Changed {
		changed[k] = true
	}
	render := func(objs map[string]manifestObject, mark bool) string {
		keys := make([]string, 0, len(objs))
		for k := range objs {
			if mark && changed[k] {
				k += "  (changed)"
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			return ""
		}
		return strings.Join(keys, "\n") + "\n"
	}
	return render(b, false), render(a, true)
}
