package policy

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// header starts every rendered file; it is a comment, so the file stays valid multi-document YAML.
const header = "# Cilium policies translated from Calico policies by cnimigrate (calico_policy_translate).\n" +
	"# Generated: edit the Calico source or the translation, not this file.\n"

// RenderYAML renders the objects as one multi-document YAML stream, in the given (sorted) order.
// The same objects always render to the same bytes.
func RenderYAML(objs []CiliumPolicy) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	for _, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("render %s %s: %w", o.Kind, o.Metadata.Name, err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// ToUnstructured converts an object to the map form the dynamic client takes.
func ToUnstructured(o CiliumPolicy) (map[string]any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", o.Kind, o.Metadata.Name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", o.Kind, o.Metadata.Name, err)
	}
	return m, nil
}
