package library

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A test gets the binaries only when each is there and newer than every source it is built from;
// otherwise the message says which file is newer and to run make build.
func TestCheckRefusesMissingAndStaleBinaries(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(rel string, at time.Time) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-time.Hour)
	write("go.mod", base)
	write("modules/a/main.go", base)
	write("internal/x/x.go", base.Add(time.Minute))
	write("internal/x/x_test.go", base.Add(30*time.Minute))           // tests are not in the binary
	write("internal/testbed/lab/lab.go", base.Add(30*time.Minute))    // nor is the test bed
	write("internal/x/testdata/fixture.go", base.Add(30*time.Minute)) // nor testdata

	if _, err := check(root, nil); err == nil || !strings.Contains(err.Error(), "library/a is missing: run `make build` first") {
		t.Fatalf("missing binary: %v", err)
	}
	write("library/a", base.Add(2*time.Minute))
	lib, err := check(root, nil)
	if err != nil || lib != filepath.Join(root, "library") {
		t.Fatalf("current binary: %q, %v", lib, err)
	}
	write("internal/x/x.go", base.Add(3*time.Minute)) // edited after the build
	if _, err := check(root, []string{"a"}); err == nil || !strings.Contains(err.Error(), "is older than internal/x/x.go") ||
		!strings.Contains(err.Error(), "run `make build` first") {
		t.Fatalf("stale binary: %v", err)
	}
}
