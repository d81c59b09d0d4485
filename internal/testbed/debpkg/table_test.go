package debpkg_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/testbed/nethost"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

const table = "../../../hack/deps.txt"

// readTable returns hack/deps.txt as command → package.
func readTable(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) != 3 {
			t.Fatalf("%s:%d: want \"commands | package | who runs it\", got %q", path, n, line)
		}
		for _, cmd := range strings.Fields(cols[0]) {
			rows[cmd] = strings.TrimSpace(cols[1])
		}
	}
	return rows
}

// The harness installs what it needs in-process (debpkg.Ensure); the table the guard builds its
// PATH from must know every one of those commands, with the same package.
func TestTableCoversHarnessNeeds(t *testing.T) {
	rows := readTable(t, table)
	for name, need := range map[string]map[string]string{"nethost.Tools": nethost.Tools, "playbook.Tools": playbook.Tools} {
		for cmd, pkg := range need {
			if got, ok := rows[cmd]; !ok {
				t.Errorf("%s needs %s (%s), which hack/deps.txt does not list", name, cmd, pkg)
			} else if got != pkg {
				t.Errorf("%s: %s comes from %s, hack/deps.txt says %s", name, cmd, pkg, got)
			}
		}
	}
}

// The guard: with PATH set to the directory `hack/deps.sh --guard-path` prints, a listed command
// runs and an unlisted one is not found, even though this machine has it.
func TestGuardPathHidesUnlistedCommands(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("hack/deps.sh is a bash script")
	}
	dir := t.TempDir()
	tbl := filepath.Join(dir, "deps.txt")
	if err := os.WriteFile(tbl, []byte("# a table without ls\nsh | dash | scripts\ncat | coreutils | scripts\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	guard := filepath.Join(dir, "path")
	cmd := exec.Command("bash", "../../../hack/deps.sh", "--guard-path")
	cmd.Env = append(os.Environ(), "CNIMIGRATE_DEPS="+tbl, "CNIMIGRATE_GUARD_DIR="+guard)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/deps.sh --guard-path: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != guard {
		t.Fatalf("guard dir = %q, want %q", got, guard)
	}
	run := func(script string) (string, error) {
		c := exec.Command(filepath.Join(guard, "sh"), "-c", script)
		c.Env = []string{"PATH=" + guard}
		b, err := c.CombinedOutput()
		return string(b), err
	}
	if out, err := run("echo listed | cat"); err != nil || strings.TrimSpace(out) != "listed" {
		t.Errorf("a listed command under the guard: %q, %v", out, err)
	}
	if _, err := exec.LookPath("ls"); err != nil {
		t.Skip("ls is not installed here either")
	}
	if out, err := run("ls /"); err == nil || !strings.Contains(out, "not found") {
		t.Errorf("ls is not in the table, yet it ran under the guard: %q, %v", out, err)
	}
}
