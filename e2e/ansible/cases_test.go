package ansiblee2e

import (
	"fmt"
	"os"
	"sort"

	"sigs.k8s.io/yaml"
)

// missingKubeconfig is where the modules are told their kubeconfig is: nothing is there, so a
// module that needs a cluster fails cleanly, which proves it ran and answered over SSH.
const missingKubeconfig = "/nonexistent/cnimigrate-e2e/kubeconfig"

// unknownOption is an option no module has.
const unknownOption = "no_such_option_cnimigrate"

// docOption is one option of a sidecar's DOCUMENTATION.
type docOption struct {
	Type     string `json:"type"`
	Required bool   `json:"required"`
	Choices  []any  `json:"choices"`
	Elements string `json:"elements"`
}

// moduleDoc is what the test reads of a sidecar.
type moduleDoc struct {
	Name    string
	Options map[string]docOption
}

func readSidecar(name, path string) (moduleDoc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return moduleDoc{}, err
	}
	var doc struct {
		Documentation struct {
			Module  string               `json:"module"`
			Options map[string]docOption `json:"options"`
		} `json:"DOCUMENTATION"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return moduleDoc{}, fmt.Errorf("sidecar %s: %w", path, err)
	}
	if doc.Documentation.Module != name {
		return moduleDoc{}, fmt.Errorf("sidecar %s documents module %q, want %q", path, doc.Documentation.Module, name)
	}
	return moduleDoc{Name: name, Options: doc.Documentation.Options}, nil
}

// testCase is one task of the generated playbook and what Ansible must report for it.
type testCase struct {
	Task   string         // task name: "<module> | <case>"
	Module string         // module to call
	Args   map[string]any // the task's arguments
	Modes  bool           // also run under --check and --diff
	// WantFailed and WantMsg: expected failed flag and substrings of msg ("" entries ignored).
	WantFailed bool
	WantMsg    []string
}

// override replaces a module's generated valid call (testdata/module-args.yml), for modules whose
// valid call can succeed without a cluster or needs particular values.
type override struct {
	Args   map[string]any `json:"args"`
	Failed bool           `json:"failed"`
	Msg    []string       `json:"msg"`
}

func readOverrides(path string) (map[string]override, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out map[string]override
	if err := yaml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// casesFor derives the cases of one module from its documented options: a valid call (with the
// kubeconfig pointing nowhere when the module has one), an unknown option, a wrong type, and a
// missing required option. Cases a module's options cannot express are left out, and say so.
func casesFor(m moduleDoc, ov *override) (cases []testCase, notes []string) {
	names := make([]string, 0, len(m.Options))
	for n := range m.Options {
		names = append(names, n)
	}
	sort.Strings(names)
	args := map[string]any{}
	for _, n := range names {
		if o := m.Options[n]; o.Required {
			args[n] = sampleValue(o)
		}
	}
	_, hasKubeconfig := m.Options["kubeconfig"]
	if hasKubeconfig {
		args["kubeconfig"] = missingKubeconfig
	}
	tc := testCase{Task: m.Name + " | valid arguments", Module: m.Name, Args: args, Modes: true}
	switch {
	case ov != nil:
		for k, v := range ov.Args {
			args[k] = v
		}
		tc.WantFailed, tc.WantMsg = ov.Failed, ov.Msg
	case hasKubeconfig:
		tc.WantFailed, tc.WantMsg = true, []string{"kubeconfig"}
	}
	cases = append(cases, tc)
	cases = append(cases, testCase{Task: m.Name + " | unknown option", Module: m.Name,
		Args: with(args, unknownOption, 1), WantFailed: true,
		WantMsg: []string{fmt.Sprintf("Unsupported parameters for (%s) module: %s", m.Name, unknownOption)}})
	if opt, bad, ok := wrongType(m, names); ok {
		cases = append(cases, testCase{Task: m.Name + " | wrong type", Module: m.Name,
			Args: with(args, opt, bad), WantFailed: true, WantMsg: []string{opt, "unable to convert"}})
	} else {
		notes = append(notes, m.Name+": no bool/int/float option, so no wrong-type case")
	}
	if req := firstRequired(m, names); req != "" {
		missing := with(args, "", nil)
		delete(missing, req)
		cases = append(cases, testCase{Task: m.Name + " | missing required option", Module: m.Name,
			Args: missing, WantFailed: true, WantMsg: []string{"missing required arguments: " + req}})
	} else {
		notes = append(notes, m.Name+": no required option, so no missing-required case")
	}
	return cases, notes
}

// sampleValue is a valid value for an option: its first choice, or something of its type.
func sampleValue(o docOption) any {
	if len(o.Choices) > 0 && o.Type != "list" {
		return o.Choices[0]
	}
	switch o.Type {
	case "bool":
		return false
	case "int":
		return 1
	case "float":
		return 1.5
	case "list":
		if len(o.Choices) > 0 {
			return []any{o.Choices[0]}
		}
		return []any{}
	case "dict":
		return map[string]any{}
	case "path":
		return "/nonexistent/cnimigrate-e2e/path"
	default:
		return "cnimigrate-e2e"
	}
}

// wrongType picks an option whose type cannot take a word, and that word.
func wrongType(m moduleDoc, names []string) (string, string, bool) {
	for _, want := range []string{"int", "bool", "float"} {
		for _, n := range names {
			if m.Options[n].Type == want {
				return n, "not-a-" + want, true
			}
		}
	}
	return "", "", false
}

func firstRequired(m moduleDoc, names []string) string {
	for _, n := range names {
		if m.Options[n].Required {
			return n
		}
	}
	return ""
}

// with returns a copy of args with k set to v (k "" copies only).
func with(args map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(args)+1)
	for a, b := range args {
		out[a] = b
	}
	if k != "" {
		out[k] = v
	}
	return out
}
