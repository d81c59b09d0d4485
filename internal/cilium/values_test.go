package cilium

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestMergeValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		dst, src map[string]any
		want     map[string]any
	}{
		{"maps merge key by key",
			map[string]any{"cni": map[string]any{"customConf": true, "uninstall": false}},
			map[string]any{"cni": map[string]any{"customConf": false}},
			map[string]any{"cni": map[string]any{"customConf": false, "uninstall": false}}},
		{"scalars and lists replace",
			map[string]any{"ipam": map[string]any{"operator": map[string]any{"clusterPoolIPv4PodCIDRList": []any{"10.245.0.0/16"}}}},
			map[string]any{"ipam": map[string]any{"operator": map[string]any{"clusterPoolIPv4PodCIDRList": []any{"10.99.0.0/16"}}}},
			map[string]any{"ipam": map[string]any{"operator": map[string]any{"clusterPoolIPv4PodCIDRList": []any{"10.99.0.0/16"}}}}},
		{"null deletes the key so the chart default applies",
			map[string]any{"tunnelPort": 8473, "routingMode": "tunnel"},
			map[string]any{"tunnelPort": nil},
			map[string]any{"routingMode": "tunnel"}},
		{"a map replaces a scalar, nested nulls dropped",
			map[string]any{"hubble": true},
			map[string]any{"hubble": map[string]any{"enabled": false, "relay": nil}},
			map[string]any{"hubble": map[string]any{"enabled": false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := mergeValues(tc.dst, tc.src); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("mergeValues = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLayerValuesKeepsNullsForThePreset(t *testing.T) {
	t.Parallel()
	files := map[string]any{"tunnelPort": 9000}
	user := layerValues(files, map[string]any{"tunnelPort": nil})
	if v, ok := user["tunnelPort"]; !ok || v != nil {
		t.Fatalf("user layer lost the null: %v", user)
	}
	final := mergeValues(map[string]any{"tunnelPort": 8473}, user)
	if _, ok := final["tunnelPort"]; ok {
		t.Errorf("null in values did not remove the preset key: %v", final)
	}
}

func TestReadValuesFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	b := filepath.Join(dir, "b.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	must(t, os.WriteFile(a, []byte("hubble:\n  enabled: false\ntunnelPort: 9000\n"), 0o600))
	must(t, os.WriteFile(b, []byte("tunnelPort: 9100\n"), 0o600))
	must(t, os.WriteFile(bad, []byte("- a list\n- not a mapping\n"), 0o600))

	got, err := readValuesFiles([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"hubble": map[string]any{"enabled": false}, "tunnelPort": float64(9100)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged files = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{a, filepath.Join(dir, "missing.yaml")}, "values_files[1]"},
		{[]string{bad}, "is not a YAML mapping"},
	} {
		if _, err := readValuesFiles(tc.files); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("readValuesFiles(%v) error = %v, want it to mention %q", tc.files, err, tc.want)
		}
	}
}

func TestValuesEqualIgnoresNumberRepresentation(t *testing.T) {
	t.Parallel()
	if !valuesEqual(map[string]any{"p": int64(8473)}, map[string]any{"p": float64(8473)}) {
		t.Error("int 8473 and float 8473 should be equal (Helm stores values as JSON)")
	}
	if valuesEqual([]any{"10.245.0.0/16"}, []any{"10.246.0.0/16"}) {
		t.Error("different lists compared equal")
	}
}

func TestMaskSecrets(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"tls":          map[string]any{"ca": map[string]any{"cert": "CERT", "key": "KEY"}},
		"encryption":   map[string]any{"ipsec": map[string]any{"secretName": "cilium-ipsec-keys"}},
		"hubble":       map[string]any{"tls": map[string]any{"server": map[string]any{"existingSecret": "hubble-server-certs"}}},
		"clustermesh":  map[string]any{"apiserver": map[string]any{"etcd": map[string]any{"password": "pw"}}},
		"extraSecrets": map[string]any{"token": "t", "nested": []any{"x"}},
		"emptyKey":     "",
		"tunnelPort":   8473,
	}
	got := maskSecrets(in).(map[string]any)
	checks := map[string]any{
		"tls.ca.cert":                         "CERT",
		"tls.ca.key":                          masked,
		"encryption.ipsec.secretName":         "cilium-ipsec-keys",
		"hubble.tls.server.existingSecret":    "hubble-server-certs",
		"clustermesh.apiserver.etcd.password": masked,
		"extraSecrets.token":                  masked,
		"emptyKey":                            "",
		"tunnelPort":                          8473,
	}
	for path, want := range checks {
		if v, _ := lookup(got, strings.Split(path, ".")); !reflect.DeepEqual(v, want) {
			t.Errorf("%s = %v, want %v", path, v, want)
		}
	}
	if v, _ := lookup(in, []string{"tls", "ca", "key"}); v != "KEY" {
		t.Error("maskSecrets modified its input")
	}
}

func TestLeavesAndLookup(t *testing.T) {
	t.Parallel()
	m := map[string]any{"a": map[string]any{"b": 1, "c": map[string]any{}}, "d": []any{1}}
	var got []string
	for _, p := range leaves(m) {
		got = append(got, strings.Join(p, "."))
	}
	if want := []string{"a.b", "a.c", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("leaves = %v, want %v", got, want)
	}
	if v, found := lookup(m, []string{"d", "x"}); !found || !reflect.DeepEqual(v, []any{1}) {
		t.Errorf("lookup through a non-map should return that value: %v %v", v, found)
	}
	if _, found := lookup(m, []string{"a", "zz"}); found {
		t.Error("absent path reported found")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The secrets of values and values files are what the module keeps out of its whole result; an
// environment entry whose name says it is a password is one, whatever its value's key is called.
func TestSecretStrings(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, []byte("clustermesh:\n  apiserver:\n    etcd:\n      password: from-file\nrouting: vxlan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"hubble":   map[string]any{"tls": map[string]any{"server": map[string]any{"key": "tls-key", "cert": "CERT"}}},
		"extraEnv": []any{map[string]any{"name": "DB_PASSWORD", "value": "env-secret"}, map[string]any{"name": "LOG", "value": "debug"}},
	}
	got := SecretStrings(values, []string{file, filepath.Join(t.TempDir(), "missing.yaml")})
	sort.Strings(got)
	if want := []string{"env-secret", "from-file", "tls-key"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SecretStrings = %v, want %v", got, want)
	}
	shown := maskSecrets(values).(map[string]any)
	if env := shown["extraEnv"].([]any); env[0].(map[string]any)["value"] != masked || env[1].(map[string]any)["value"] != "debug" {
		t.Errorf("extraEnv shown as %v", env)
	}
}
