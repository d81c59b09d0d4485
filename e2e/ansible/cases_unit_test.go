package ansiblee2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestCasesFor(t *testing.T) {
	doc := moduleDoc{Name: "demo", Options: map[string]docOption{
		"scope":      {Type: "str", Required: true, Choices: []any{"cluster", "node"}},
		"kubeconfig": {Type: "path"},
		"timeout":    {Type: "int"},
		"names":      {Type: "list", Elements: "str"},
	}}
	cases, notes := casesFor(doc, nil)
	if len(notes) != 0 {
		t.Errorf("notes = %v", notes)
	}
	byTask := map[string]testCase{}
	for _, c := range cases {
		byTask[strings.TrimPrefix(c.Task, "demo | ")] = c
	}
	valid := byTask["valid arguments"]
	if valid.Args["scope"] != "cluster" || valid.Args["kubeconfig"] != missingKubeconfig || !valid.WantFailed ||
		valid.WantMsg[0] != "kubeconfig" || !valid.Modes {
		t.Errorf("valid case = %+v", valid)
	}
	if c := byTask["unknown option"]; c.Args[unknownOption] == nil || !strings.Contains(c.WantMsg[0], "Unsupported parameters for (demo) module") {
		t.Errorf("unknown-option case = %+v", c)
	}
	if c := byTask["wrong type"]; c.Args["timeout"] != "not-a-int" || c.WantMsg[0] != "timeout" {
		t.Errorf("wrong-type case = %+v", c)
	}
	if c := byTask["missing required option"]; c.Args["scope"] != nil || c.WantMsg[0] != "missing required arguments: scope" {
		t.Errorf("missing-required case = %+v", c)
	}
	if _, ok := valid.Args[unknownOption]; ok {
		t.Error("cases share one args map: the unknown option leaked into the valid call")
	}

	bare := moduleDoc{Name: "bare", Options: map[string]docOption{"name": {Type: "str"}}}
	cases, notes = casesFor(bare, &override{Args: map[string]any{"name": "x"}, Failed: false})
	if len(cases) != 2 || len(notes) != 2 || cases[0].WantFailed || cases[0].Args["name"] != "x" {
		t.Errorf("bare module: cases %+v notes %v", cases, notes)
	}
}

func TestRenderPlaybook(t *testing.T) {
	cases := []testCase{
		{Task: "demo | valid arguments", Module: "demo", Args: map[string]any{"msg": "a: \"quoted\""}, Modes: true},
		{Task: "demo | unknown option", Module: "demo", Args: map[string]any{unknownOption: 1}},
	}
	out := filepath.Join(t.TempDir(), "pb.yml")
	if err := renderPlaybook("testdata/modules.yml.tmpl", out, cases); err != nil {
		t.Fatal(err)
	}
	var plays []struct {
		Hosts string           `json:"hosts"`
		Tasks []map[string]any `json:"tasks"`
	}
	if err := readYAML(out, &plays); err != nil {
		t.Fatal(err)
	}
	if len(plays) != 1 || len(plays[0].Tasks) != 2 {
		t.Fatalf("plays = %+v", plays)
	}
	first := plays[0].Tasks[0]
	args, _ := first["demo"].(map[string]any)
	if first["name"] != "demo | valid arguments" || args["msg"] != `a: "quoted"` || first["ignore_errors"] != true {
		t.Errorf("first task = %v", first)
	}
	if plays[0].Tasks[0]["run_once"] != nil || plays[0].Tasks[1]["run_once"] != true {
		t.Errorf("run_once: valid call %v, bad-argument case %v; want only the bad-argument case once", plays[0].Tasks[0]["run_once"], plays[0].Tasks[1]["run_once"])
	}
	if tags, _ := plays[0].Tasks[1]["tags"].([]any); len(tags) != 1 || tags[0] != "badargs" {
		t.Errorf("bad-argument case tags = %v", plays[0].Tasks[1]["tags"])
	}
}

func readYAML(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, into)
}
