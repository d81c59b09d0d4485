package cilium

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// masked replaces secret-looking values in results and diffs.
const masked = "********"

// normalizeValues returns v the way Helm stores and returns release values: through JSON, so
// numbers are float64 and nested maps are map[string]any. Comparing normalized maps is exact.
func normalizeValues(v map[string]any) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("values cannot be encoded: %w", err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("values cannot be decoded: %w", err)
	}
	return out, nil
}

// mergeValues deep-merges src onto a copy of dst, as Helm merges values files: maps merge key by
// key, any other value replaces, and null deletes the key (so the chart default applies).
func mergeValues(dst, src map[string]any) map[string]any { return merge(dst, src, false) }

// layerValues merges two user layers and keeps nulls, so that a null in values still deletes a
// preset key when the layers are finally merged onto the preset.
func layerValues(dst, src map[string]any) map[string]any { return merge(dst, src, true) }

func merge(dst, src map[string]any, keepNull bool) map[string]any {
	out := make(map[string]any, len(dst))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if v == nil && !keepNull {
			delete(out, k)
			continue
		}
		sm, sIsMap := v.(map[string]any)
		dm, dIsMap := out[k].(map[string]any)
		switch {
		case sIsMap && dIsMap:
			out[k] = merge(dm, sm, keepNull)
		case sIsMap && !keepNull:
			out[k] = merge(map[string]any{}, sm, false) // drop nested nulls too
		default:
			out[k] = v
		}
	}
	return out
}

// readValuesFiles merges the files in order. Errors name the file.
func readValuesFiles(paths []string) (map[string]any, error) {
	out := map[string]any{}
	for i, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("values_files[%d]: %w", i, err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("values_files[%d] %s is not a YAML mapping: %w", i, path, err)
		}
		out = layerValues(out, m)
	}
	return out, nil
}

// leaves lists the paths of every non-map value (and of empty maps), sorted.
func leaves(m map[string]any) [][]string {
	var out [][]string
	var walk func(prefix []string, v map[string]any)
	walk = func(prefix []string, v map[string]any) {
		for k, e := range v {
			p := append(append([]string(nil), prefix...), k)
			if sub, ok := e.(map[string]any); ok && len(sub) > 0 {
				walk(p, sub)
				continue
			}
			out = append(out, p)
		}
	}
	walk(nil, m)
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], ".") < strings.Join(out[j], ".") })
	return out
}

// lookup follows path in m. found is false when the path is absent. When a value on the way is
// not a map (or is null), that value is returned with found true: it replaces the whole subtree.
func lookup(m map[string]any, path []string) (v any, found bool) {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return cur, true
		}
		next, present := mm[k]
		if !present {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

// valuesEqual compares two values after JSON normalization (int 1 equals float 1).
func valuesEqual(a, b any) bool {
	na, errA := normalizeAny(a)
	nb, errB := normalizeAny(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return reflect.DeepEqual(na, nb)
}

func normalizeAny(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	if m, ok := out.(map[string]any); ok && len(m) == 0 {
		return map[string]any{}, err
	}
	return out, err
}

// secretKey reports whether a values key looks like it holds a secret (a key, password or token),
// not merely the name of one (secretName, keyFile, ...).
func secretKey(k string) bool {
	l := strings.ToLower(k)
	if strings.HasPrefix(l, "existing") { // existingSecret: the name of a Secret that holds it
		return false
	}
	for _, notSecret := range []string{"name", "namespace", "ref", "file", "path", "enabled", "publickey", "id"} {
		if strings.HasSuffix(l, notSecret) {
			return false
		}
	}
	for _, s := range []string{"password", "token", "secret", "privatekey", "credential"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return l == "key" || strings.HasSuffix(l, "key") || strings.HasSuffix(l, "psk")
}

// maskSecrets returns a copy of v with non-empty strings under secret-looking keys masked.
func maskSecrets(v any) any {
	return maskWalk(v, false)
}

func maskWalk(v any, secret bool) any {
	return secretWalk(v, secret, func(string) any { return masked })
}

// secretWalk returns a copy of v in which hide replaces every non-empty string that is secret:
// under a secret-looking key, or the value of a name/value pair whose name looks secret (extraEnv:
// [{name: DB_PASSWORD, value: ...}]). secret says v itself is under such a key.
func secretWalk(v any, secret bool, hide func(string) any) any {
	switch x := v.(type) {
	case map[string]any:
		name, _ := x["name"].(string)
		pairSecret := name != "" && secretKey(name)
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = secretWalk(e, secret || secretKey(k) || (pairSecret && k == "value"), hide)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = secretWalk(e, secret, hide)
		}
		return out
	case string:
		if secret && x != "" {
			return hide(x)
		}
	}
	return v
}

// SecretStrings lists the secret strings (as maskSecrets sees them) of values and of the values
// files, so that the module can keep them out of everything it reports (an error from Helm can
// quote a value). A file that cannot be read is skipped: the run reports it.
func SecretStrings(values map[string]any, files []string) []string {
	var out []string
	collect := func(s string) any { out = append(out, s); return s }
	secretWalk(values, false, collect)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		m := map[string]any{}
		if yaml.Unmarshal(data, &m) == nil {
			secretWalk(m, false, collect)
		}
	}
	return out
}

// toYAML renders values for a diff (sorted keys); an empty map renders as "{}\n".
func toYAML(v any) string {
	if v == nil {
		return ""
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("# values cannot be rendered: %v\n", err)
	}
	return string(b)
}
