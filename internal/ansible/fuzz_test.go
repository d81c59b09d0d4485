package ansible

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzArgs feeds arbitrary bytes as the args file. Whatever the input, the module must print
// exactly one JSON object with a boolean "failed", and exit 1 exactly when it failed.
func FuzzArgs(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"name":"x"}`, `{"name":"x","count":"12","wait":"no"}`, `{"name":1e400}`,
		`{"name":"x","kinds":"Deployment,Pod"}`, `{"name":"x","values":"{\"a\":1}"}`,
		`{"name":"x","values":"{bad"}`, `{"name":"x","count":-9223372036854775809}`,
		`{"name":"x","_ansible_check_mode":1,"_ansible_diff":"yes"}`, `{"name":"x","_ansible_verbosity":"x"}`,
		`{"name":"x","token":""}`, `{"name":"\u0000"}`, `[]`, `null`, `"str"`, ``, `{"a":`, "\xff\xfe",
		`{"name":"x","a":"1","b":"2"}`, `{"name":"x","anything":[{"deep":[null,true,{}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "args")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		code := Run(context.Background(), []string{"demo", path}, &out, testSpec, echo)
		res := decodeOne(t, out.Bytes())
		failed, ok := res["failed"].(bool)
		if !ok {
			t.Fatalf("no boolean failed key: %s", out.Bytes())
		}
		if failed != (code == 1) || (code != 0 && code != 1) {
			t.Fatalf("exit %d does not match failed=%v", code, failed)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("invalid JSON: %q", out.Bytes())
		}
	})
}
