package ansible

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testSpec = Spec{
	Name: "demo",
	Options: map[string]Option{
		"name":     {Type: TypeStr, Required: true, Aliases: []string{"release"}},
		"state":    {Type: TypeStr, Default: "present", Choices: []string{"present", "absent"}},
		"count":    {Type: TypeInt, Default: 3},
		"ratio":    {Type: TypeFloat},
		"wait":     {Type: TypeBool, Default: true},
		"kinds":    {Type: TypeList, Elements: TypeStr, Default: []string{"Deployment"}, Choices: []string{"Deployment", "StatefulSet"}},
		"values":   {Type: TypeDict},
		"dir":      {Type: TypePath},
		"token":    {Type: TypeStr, NoLog: true},
		"anything": {Type: TypeRaw},
		"a":        {Type: TypeStr},
		"b":        {Type: TypeStr},
	},
	MutuallyExclusive: [][]string{{"a", "b"}},
	RequiredTogether:  [][]string{{"ratio", "dir"}},
	SupportsCheckMode: true,
}

// runModule writes args as the args file and runs the module as Ansible would, returning the
// decoded JSON object and the exit code. It fails the test unless stdout is exactly one JSON object.
func runModule(t *testing.T, spec Spec, args string, h Handler) (map[string]any, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "args")
	if err := os.WriteFile(path, []byte(args), 0o600); err != nil {
		t.Fatal(err)
	}
	return runArgv(t, spec, []string{"AnsiballZ_demo", path}, h)
}

func runArgv(t *testing.T, spec Spec, argv []string, h Handler) (map[string]any, int) {
	t.Helper()
	var out bytes.Buffer
	code := Run(context.Background(), argv, &out, spec, h)
	return decodeOne(t, out.Bytes()), code
}

func decodeOne(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var res map[string]any
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, b)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", b)
	}
	return res
}

func echo(ctx context.Context, req *Request) (*Result, error) {
	return &Result{Changed: !req.CheckMode, Values: map[string]any{"params": req.Params, "check": req.CheckMode}}, nil
}

func TestValidationFailures(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, args, msg string }{
		{"unknown option", `{"name":"x","colour":"red"}`,
			"Unsupported parameters for (demo) module: colour. Supported parameters include: a, anything, b, count, dir, kinds, name, ratio, state, token, values, wait (release)."},
		{"missing required", `{"state":"present"}`, "missing required arguments: name"},
		{"bad choice", `{"name":"x","state":"gone"}`, "value of state must be one of: present, absent, got: gone"},
		{"bad list choice", `{"name":"x","kinds":["Pod"]}`, "value of kinds must be one or more of: Deployment, StatefulSet. Got no match for: Pod"},
		{"wrong int", `{"name":"x","count":"three"}`,
			"argument 'count' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int"},
		{"float is not int", `{"name":"x","count":1.5}`, "argument 'count' is of type <class 'float'>"},
		{"wrong bool", `{"name":"x","wait":"maybe"}`, "argument 'wait' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean."},
		{"list is not a str", `{"name":["x"]}`, "argument 'name' is of type <class 'list'> and we were unable to convert to str"},
		{"dict garbage", `{"name":"x","values":"nonsense"}`, "unable to convert to dict"},
		{"mutually exclusive", `{"name":"x","a":"1","b":"2"}`, "parameters are mutually exclusive: a|b"},
		{"required together", `{"name":"x","ratio":0.5}`, "parameters are required together: ratio, dir"},
		{"malformed JSON", `{"name":`, "are not a JSON object"},
		{"not an object", `["name"]`, "are not a JSON object"},
		{"null", `null`, "are not a JSON object"},
		{"trailing data", `{"name":"x"} {}`, "unexpected data after the JSON object"},
		{"bad internal flag", `{"name":"x","_ansible_check_mode":"perhaps"}`, "internal argument _ansible_check_mode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			called := false
			res, code := runModule(t, testSpec, tc.args, func(context.Context, *Request) (*Result, error) {
				called = true
				return &Result{}, nil
			})
			if code != 1 || res["failed"] != true {
				t.Fatalf("want failed result and exit 1, got exit %d: %v", code, res)
			}
			if msg, _ := res["msg"].(string); !strings.Contains(msg, tc.msg) {
				t.Fatalf("msg = %q, want it to contain %q", msg, tc.msg)
			}
			if called {
				t.Fatal("module ran despite invalid arguments")
			}
		})
	}
}

func TestNoArgsFile(t *testing.T) {
	t.Parallel()
	for _, argv := range [][]string{{"demo"}, {"demo", filepath.Join(t.TempDir(), "missing")}} {
		res, code := runArgv(t, testSpec, argv, echo)
		if code != 1 || res["failed"] != true || res["msg"] == "" {
			t.Fatalf("argv %v: want a failure with a message, got exit %d %v", argv, code, res)
		}
	}
}

func TestCoercionsAndDefaults(t *testing.T) {
	t.Parallel()
	res, code := runModule(t, testSpec, `{"release":"r1","count":"7","wait":"yes","kinds":"Deployment,StatefulSet",
		"values":"a=1 b=2","anything":{"x":[1,2.5]},"_ansible_verbosity":3,"_ansible_module_name":"demo","_ansible_new_key":1}`, echo)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res)
	}
	p := res["params"].(map[string]any)
	want := map[string]any{"name": "r1", "count": 7.0, "wait": true, "state": "present", "ratio": nil}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %#v, want %#v", k, p[k], v)
		}
	}
	if got := p["kinds"].([]any); len(got) != 2 || got[1] != "StatefulSet" {
		t.Errorf("kinds = %v", got)
	}
	if got := p["values"].(map[string]any); got["b"] != "2" {
		t.Errorf("values = %v", got)
	}
	for _, truthy := range []string{`"on"`, `1`, `"True"`, `"t"`, `true`} {
		r, _ := runModule(t, testSpec, `{"name":"x","wait":`+truthy+`}`, echo)
		if r["params"].(map[string]any)["wait"] != true {
			t.Errorf("wait=%s not coerced to true: %v", truthy, r)
		}
	}
}

func TestStringConversionWarns(t *testing.T) {
	t.Parallel()
	res, code := runModule(t, testSpec, `{"name":42}`, echo)
	if code != 0 {
		t.Fatalf("exit %d: %v", code, res)
	}
	if res["params"].(map[string]any)["name"] != "42" {
		t.Fatalf("name not converted to string: %v", res["params"])
	}
	w, _ := res["warnings"].([]any)
	if len(w) != 1 || !strings.Contains(w[0].(string), "in a string field was converted to '42'") {
		t.Fatalf("want Ansible's conversion warning, got %v", res["warnings"])
	}
}

func TestCheckModeAndDiff(t *testing.T) {
	t.Parallel()
	h := func(ctx context.Context, req *Request) (*Result, error) {
		return &Result{Changed: true, Diff: []Diff{{Before: "a\n", After: "b\n"}}}, nil
	}
	res, _ := runModule(t, testSpec, `{"name":"x","_ansible_check_mode":true}`, echo)
	if res["check"] != true || res["changed"] != false {
		t.Fatalf("check mode not passed to the module: %v", res)
	}
	res, _ = runModule(t, testSpec, `{"name":"x"}`, h)
	if _, ok := res["diff"]; ok {
		t.Fatalf("diff returned although not asked for: %v", res)
	}
	res, _ = runModule(t, testSpec, `{"name":"x","_ansible_diff":true}`, h)
	if d, ok := res["diff"].(map[string]any); !ok || d["after"] != "b\n" {
		t.Fatalf("diff missing with --diff: %v", res)
	}
	noCheck := testSpec
	noCheck.SupportsCheckMode = false
	res, code := runModule(t, noCheck, `{"name":"x","_ansible_check_mode":true}`, echo)
	if code != 0 || res["skipped"] != true || res["msg"] != "remote module (demo) does not support check mode" {
		t.Fatalf("want Ansible's skipped result, got %v", res)
	}
}

func TestNoLogMasking(t *testing.T) {
	t.Parallel()
	h := func(ctx context.Context, req *Request) (*Result, error) {
		tok := req.Params["token"].(string)
		return &Result{Msg: "used " + tok, Warnings: []string{"token " + tok}}, errors.New("login with " + tok + " failed")
	}
	res, _ := runModule(t, testSpec, `{"name":"x","token":"s3cr3t-v4lue"}`, h)
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), "s3cr3t-v4lue") {
		t.Fatalf("secret leaked: %s", b)
	}
	inv := res["invocation"].(map[string]any)["module_args"].(map[string]any)
	if inv["token"] != maskedValue || inv["name"] != "x" {
		t.Fatalf("invocation not masked as Ansible does: %v", inv)
	}
	res, _ = runModule(t, testSpec, `{"name":"x","_ansible_no_log":true}`, echo)
	if inv := res["invocation"].(map[string]any)["module_args"].(map[string]any); inv["name"] != maskedValue {
		t.Fatalf("task-level no_log must mask every option: %v", inv)
	}
}

func TestPartialFailureKeepsResult(t *testing.T) {
	t.Parallel()
	h := func(ctx context.Context, req *Request) (*Result, error) {
		return &Result{Changed: true, Values: map[string]any{"removed": []string{"a"}, "not_removed": []string{"b"}}},
			errors.New("delete b: forbidden")
	}
	res, code := runModule(t, testSpec, `{"name":"x"}`, h)
	if code != 1 || res["failed"] != true || res["changed"] != true || res["msg"] != "delete b: forbidden" {
		t.Fatalf("partial failure not reported: %v", res)
	}
	if got := res["removed"].([]any); len(got) != 1 {
		t.Fatalf("what was done before the failure is lost: %v", res)
	}
}

func TestPanicBecomesFailure(t *testing.T) {
	t.Parallel()
	res, code := runModule(t, testSpec, `{"name":"x"}`, func(context.Context, *Request) (*Result, error) {
		var m map[string]int
		m["boom"]++
		return nil, nil
	})
	if code != 1 || res["failed"] != true || !strings.Contains(res["msg"].(string), "module crashed") {
		t.Fatalf("panic not turned into a failure: %v", res)
	}
	if !strings.Contains(res["exception"].(string), "goroutine") {
		t.Fatalf("stack trace should be under 'exception' for -vvv: %v", res)
	}
}

func TestDecodeIntoStruct(t *testing.T) {
	t.Parallel()
	var got struct {
		Name  string   `json:"name"`
		Count int      `json:"count"`
		Kinds []string `json:"kinds"`
		Wait  bool     `json:"wait"`
	}
	_, code := runModule(t, testSpec, `{"name":"x","count":"9"}`, func(ctx context.Context, req *Request) (*Result, error) {
		return nil, req.Decode(&got)
	})
	if code != 0 || got.Name != "x" || got.Count != 9 || len(got.Kinds) != 1 || !got.Wait {
		t.Fatalf("decode: exit %d, %+v", code, got)
	}
}
