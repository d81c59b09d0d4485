package ansible

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// secretSpec has the three kinds of option a secret can hide in: a no_log string, free-form values
// (masked, their secrets named by the module at run time) and a path (where a file's contents are
// sometimes pasted instead).
var secretSpec = Spec{
	Name: "demo",
	Options: map[string]Option{
		"password":   {Type: TypeStr, NoLog: true, Aliases: []string{"pass"}},
		"values":     {Type: TypeDict, Masked: true, Aliases: []string{"release_values"}},
		"kubeconfig": {Type: TypePath},
		"files":      {Type: TypeList, Elements: TypePath},
		"mode":       {Type: TypeStr, Choices: []string{"fresh"}},
	},
	SupportsCheckMode: true,
}

const secret = "s3cr3t-K10-token"

// leaky reports the secret everywhere a module can: msg, warnings, diff, deprecations, values, error.
func leaky(ctx context.Context, req *Request) (*Result, error) {
	if v, ok := req.Params["values"].(map[string]any); ok {
		req.AddNoLogValues(v["token"].(string))
	}
	return &Result{Msg: "using " + secret, Warnings: []string{"saw " + secret},
			Diff:         []Diff{{Before: "token: " + secret + "\n", After: "token: new\n"}},
			Deprecations: []Deprecation{{Msg: "old " + secret}},
			Values:       map[string]any{"nested": map[string]any{"list": []string{"x " + secret}}, "mode": "cilium vxlan"}},
		errors.New("login with " + secret + " failed")
}

func TestSecretsStayMasked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, args string
		// invocation: option whose echo must be masked
		masked string
	}{
		{"values, named at run time", `{"values":{"token":"` + secret + `","routing":"cilium vxlan"},"_ansible_diff":true}`, "values"},
		{"values under their alias, bad input", `{"release_values":{"token":"` + secret + `"},"mode":"replace"}`, "release_values"},
		{"no_log option under its alias, bad input", `{"pass":"` + secret + `","mode":"replace"}`, "pass"},
		{"a kubeconfig pasted as a path", `{"kubeconfig":"apiVersion: v1\nusers:\n- user: {token: ` + secret + `}\n"}`, "kubeconfig"},
		{"a file pasted in a list of paths", `{"files":["/ok","users:\n- token: ` + secret + `\n"]}`, "files"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, _ := runModule(t, secretSpec, tc.args, leaky)
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), secret) {
				t.Errorf("the secret is in the result:\n%s", b)
			}
			inv := res["invocation"].(map[string]any)["module_args"].(map[string]any)
			if inv[tc.masked] != maskedValue {
				t.Errorf("invocation shows %s = %v, want %s", tc.masked, inv[tc.masked], maskedValue)
			}
		})
	}
}

// Masking free-form values must not blank their ordinary words out of the rest of the result:
// only what the module names as secret is scrubbed.
func TestMaskedValuesKeepOrdinaryWords(t *testing.T) {
	t.Parallel()
	res, code := runModule(t, secretSpec, `{"values":{"token":"`+secret+`","routing":"cilium vxlan"}}`, leaky)
	if code != 1 {
		t.Fatalf("exit %d, want the handler's failure: %v", code, res)
	}
	if res["mode"] != "cilium vxlan" || res["msg"] != "login with ******** failed" {
		t.Errorf("want ordinary words kept and the secret scrubbed, got mode %q msg %q", res["mode"], res["msg"])
	}
}

// A multi-line value is not a path: it is refused without being repeated.
func TestPathWithSeveralLinesIsRefused(t *testing.T) {
	t.Parallel()
	called := false
	res, code := runModule(t, secretSpec, `{"kubeconfig":"apiVersion: v1\nkind: Config\n"}`, func(context.Context, *Request) (*Result, error) {
		called = true
		return &Result{}, nil
	})
	msg, _ := res["msg"].(string)
	if code != 1 || called || !strings.Contains(msg, "argument 'kubeconfig'") || strings.Contains(msg, "apiVersion") {
		t.Fatalf("want a refusal naming the option without its value; exit %d, module ran %v, msg %q", code, called, msg)
	}
}
