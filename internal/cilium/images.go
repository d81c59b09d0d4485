package cilium

import (
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// podSpecContainerKeys are the lists of a pod spec whose entries name an image.
var podSpecContainerKeys = []string{"containers", "initContainers", "ephemeralContainers"}

// manifestImages lists the images a rendered manifest's pod templates reference (DaemonSets,
// Deployments, Jobs, …), each once, sorted: what an air-gapped cluster must mirror.
func manifestImages(manifest string) ([]string, error) {
	seen := map[string]bool{}
	for i, doc := range strings.Split(manifest, "\n---") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("rendered manifest, document %d: %w", i+1, err)
		}
		collectImages(obj, seen)
	}
	out := make([]string, 0, len(seen))
	for img := range seen {
		out = append(out, img)
	}
	sort.Strings(out)
	return out, nil
}

// collectImages walks an object and records the image of every container it finds.
func collectImages(v any, seen map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if isContainerList(k) {
				for _, c := range asList(child) {
					if img, ok := c["image"].(string); ok && img != "" {
						seen[img] = true
					}
				}
			}
			collectImages(child, seen)
		}
	case []any:
		for _, child := range v {
			collectImages(child, seen)
		}
	}
}

func isContainerList(key string) bool {
	for _, k := range podSpecContainerKeys {
		if k == key {
			return true
		}
	}
	return false
}

func asList(v any) []map[string]any {
	items, _ := v.([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
