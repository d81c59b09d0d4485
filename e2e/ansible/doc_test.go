package ansiblee2e

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// testAnsibleDoc checks that `ansible-doc -M <library> <module>` renders each sidecar: exit 0, the
// module's name and one of its options in the output, no error or warning.
func testAnsibleDoc(t *testing.T, ctx context.Context, lib string, mods []string, sidecars map[string]string) {
	for _, m := range mods {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			doc, err := readSidecar(m, sidecars[m])
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, "ansible-doc", "-M", lib, m)
			cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LIBRARY=")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ansible-doc -M %s %s: %v\n%s", lib, m, err, stderr.String())
			}
			opts := make([]string, 0, len(doc.Options))
			for o := range doc.Options {
				opts = append(opts, o)
			}
			sort.Strings(opts)
			text := string(out)
			if !strings.Contains(strings.ToLower(text), m) || (len(opts) > 0 && !strings.Contains(text, opts[0])) {
				t.Errorf("ansible-doc %s output lacks the module name or option %v:\n%s", m, opts, text)
			}
			if s := stderr.String(); strings.Contains(s, "ERROR") || strings.Contains(s, "WARNING") {
				t.Errorf("ansible-doc %s complained: %s", m, s)
			}
		})
	}
}
