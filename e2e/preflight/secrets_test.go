package preflight

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// testSecrets: the join tokens in the first server's K3s config, also handed to Cilium through
// values and a values file, appear nowhere in what a -vvv --diff run prints, what a callback plugin
// records, or the reports directory.
func testSecrets(ctx context.Context, t *testing.T, r *runner) {
	server := r.server()
	tokens := configValues(r.k3sConfig(t, server.Name), "token", "agent-token")
	if len(tokens) != 2 || !strings.HasPrefix(tokens[0], "K10") || !strings.HasPrefix(tokens[1], "K10") {
		t.Fatalf("the lab's K3s config on %s holds no join tokens (got %d): nothing to keep secret", server.Name, len(tokens))
	}
	valuesFile := filepath.Join(r.dir, "cilium-values.yaml") // the node hosts share this machine's /tmp
	if err := os.WriteFile(valuesFile, []byte("hubble:\n  tls:\n    server:\n      key: "+tokens[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reports := filepath.Join(r.dir, "reports")
	res, err := r.run(ctx, t, playbook.Params{Verbosity: 3, Diff: true, ExtraVars: map[string]any{
		"cnimigrate_artifacts_dir": reports,
		"cilium_values":            map[string]any{"extraEnv": []any{map[string]any{"name": "K3S_TOKEN", "value": tokens[0]}}},
		"cilium_values_files":      []string{valuesFile},
	}})
	if err != nil {
		t.Fatalf("the preflight refuses the lab (a K3s server prepared for a CNI change): %v\n%s", err, tail(res.Output))
	}
	// The values reached cilium_install (its result shows them, masked): the check below is not vacuous.
	hr, ok := anyHost(res, "cilium : Cilium | Apply the release in mode fresh")
	if !ok || hr.Failed() {
		t.Fatalf("cilium_install's dry run did not run: %v", hr.Result)
	}
	if !strings.Contains(fmtJSON(hr.Result["values"]), "K3S_TOKEN") {
		t.Fatalf("cilium_install's result lacks the values it was given: %s", fmtJSON(hr.Result["values"]))
	}
	recorded := fmtJSON(res.Plays)
	for i, tok := range tokens {
		for where, text := range map[string]string{"Ansible's output": res.Output, "the recorded results": recorded} {
			if leak := findToken(text, tok); leak != "" {
				t.Errorf("join token %d is in %s (%s):\n%s", i, where, leak, around(text, tok))
			}
		}
		_ = filepath.WalkDir(reports, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(path); findToken(string(b), tok) != "" {
					t.Errorf("join token %d is in the report %s", i, path)
				}
			}
			return nil
		})
	}
}

// anyHost is a task's result on the host it ran for (run_once tasks run for the play's first host).
func anyHost(res *playbook.Result, task string) (playbook.HostResult, bool) {
	for _, t := range res.Tasks(task) {
		for _, hr := range t.Hosts {
			return hr, true
		}
	}
	return playbook.HostResult{}, false
}

// configValues returns the values of the given top-level keys of a flat K3s config.
func configValues(config string, keys ...string) []string {
	var out []string
	for _, k := range keys {
		sc := bufio.NewScanner(strings.NewReader(config))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), k+": "); ok {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}

// findToken says how text holds the token: as is, or base64-encoded (what slurp returns) at any of
// the three alignments it can have inside a larger encoded file. "" when it does not.
func findToken(text, token string) string {
	if strings.Contains(text, token) {
		return "as is"
	}
	for pad := 0; pad < 3; pad++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, pad), token...))
		core := enc[4 : len(enc)-4] // the characters that encode only the token's own bytes
		if strings.Contains(text, core) {
			return "base64-encoded"
		}
	}
	return ""
}

// around is the text around the token's first plain occurrence, the token itself replaced.
func around(text, token string) string {
	i := strings.Index(text, token)
	if i < 0 {
		return ""
	}
	return strings.ReplaceAll(text[max(0, i-300):min(len(text), i+len(token)+100)], token, "<TOKEN>")
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}
