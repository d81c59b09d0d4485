package ansible

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// sidecarDoc is the part of a library/<module>.yml sidecar that must agree with the Go spec.
type sidecarDoc struct {
	Documentation struct {
		Module     string                   `json:"module"`
		Options    map[string]sidecarOption `json:"options"`
		Attributes map[string]struct {
			Support string `json:"support"`
		} `json:"attributes"`
	} `json:"DOCUMENTATION"`
	Examples string         `json:"EXAMPLES"`
	Return   map[string]any `json:"RETURN"`
}

type sidecarOption struct {
	Type        string   `json:"type"`
	Required    bool     `json:"required"`
	Default     any      `json:"default"`
	Choices     []any    `json:"choices"`
	Aliases     []string `json:"aliases"`
	Elements    string   `json:"elements"`
	NoLog       bool     `json:"no_log"`
	Description any      `json:"description"`
}

// SidecarDrift compares a sidecar doc (library/<module>.yml) with the module's Go spec and returns
// every disagreement: options missing on either side, and differing type, required, default,
// choices, aliases, elements or no_log. It also checks the parts ansible-doc needs. Empty means in sync.
func SidecarDrift(spec Spec, sidecar []byte) []string {
	var doc sidecarDoc
	if err := yaml.Unmarshal(sidecar, &doc); err != nil {
		return []string{fmt.Sprintf("sidecar is not valid YAML: %v", err)}
	}
	var out []string
	d := doc.Documentation
	if d.Module != spec.Name {
		out = append(out, fmt.Sprintf("DOCUMENTATION.module is %q, want %q", d.Module, spec.Name))
	}
	if strings.TrimSpace(doc.Examples) == "" {
		out = append(out, "EXAMPLES is empty")
	}
	if len(doc.Return) == 0 {
		out = append(out, "RETURN is empty")
	}
	wantCheck := "none"
	if spec.SupportsCheckMode {
		wantCheck = "full"
	}
	if got := d.Attributes["check_mode"].Support; got != wantCheck && !(wantCheck == "full" && got == "partial") {
		out = append(out, fmt.Sprintf("attributes.check_mode.support is %q, spec says %q", got, wantCheck))
	}
	if d.Attributes["diff_mode"].Support == "" {
		out = append(out, "attributes.diff_mode.support is missing")
	}
	for _, name := range spec.names() {
		opt, doc := spec.Options[name], d.Options[name]
		if _, ok := d.Options[name]; !ok {
			out = append(out, fmt.Sprintf("option %s is in the Go spec but not in the sidecar", name))
			continue
		}
		out = append(out, optionDrift(name, opt, doc)...)
	}
	for name := range d.Options {
		if !spec.has(name) {
			out = append(out, fmt.Sprintf("option %s is in the sidecar but not in the Go spec", name))
		}
	}
	sort.Strings(out)
	return out
}

func optionDrift(name string, opt Option, doc sidecarOption) []string {
	var out []string
	diff := func(field string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			out = append(out, fmt.Sprintf("option %s: %s is %v in the sidecar, %v in the Go spec", name, field, got, want))
		}
	}
	typ := string(opt.Type)
	if typ == "" {
		typ = "raw"
	}
	docType := doc.Type
	if docType == "" {
		docType = "str" // Ansible's default type
	}
	diff("type", docType, typ)
	diff("required", doc.Required, opt.Required)
	diff("elements", doc.Elements, string(opt.Elements))
	diff("no_log", doc.NoLog, opt.NoLog || opt.Masked) // both keep the value out of invocation
	diff("aliases", sortedOrNil(doc.Aliases), sortedOrNil(opt.Aliases))
	var docChoices []string
	for _, c := range doc.Choices {
		docChoices = append(docChoices, fmt.Sprint(c))
	}
	diff("choices", docChoices, nilIfEmpty(opt.Choices))
	diff("default", normalize(doc.Default), normalize(opt.Default))
	if doc.Description == nil {
		out = append(out, fmt.Sprintf("option %s has no description", name))
	}
	return out
}

func sortedOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// normalize makes YAML- and Go-typed defaults comparable (numbers as float64, lists and maps
// element-wise).
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}
