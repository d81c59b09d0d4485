// Package library gives tests the module binaries that `make build` puts in library/: built once
// per test run (make test builds before it tests) instead of once per test package. Before a test
// uses them it checks they are there and newer than every Go source they are built from, so no
// test ever runs a stale module; either failure says to run make build.
package library

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Root is the checkout this package belongs to.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Dir returns the checkout's library/ after checking that it holds a current binary of each named
// module (of every module in modules/ when none is named).
func Dir(t testing.TB, modules ...string) string {
	t.Helper()
	lib, err := check(Root(), modules)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

func check(root string, modules []string) (string, error) {
	if len(modules) == 0 {
		var err error
		if modules, err = all(root); err != nil {
			return "", err
		}
	}
	newest, err := newestSource(root)
	if err != nil {
		return "", fmt.Errorf("find the newest module source: %w", err)
	}
	lib := filepath.Join(root, "library")
	for _, m := range modules {
		st, err := os.Stat(filepath.Join(lib, m))
		if err != nil {
			return "", fmt.Errorf("module binary library/%s is missing: run `make build` first (%v)", m, err)
		}
		if st.ModTime().Before(newest.at) {
			return "", fmt.Errorf("module binary library/%s (built %s) is older than %s (changed %s): run `make build` first",
				m, st.ModTime().Format(time.TimeOnly), newest.path, newest.at.Format(time.TimeOnly))
		}
	}
	return lib, nil
}

// Binary returns the path of one module's current binary.
func Binary(t testing.TB, module string) string {
	t.Helper()
	return filepath.Join(Dir(t, module), module)
}

// all lists the modules: the directories of modules/ with a main.go (modules/internal holds code
// they share).
func all(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "modules"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, "modules", e.Name(), "main.go")); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

type source struct {
	path string
	at   time.Time
}

// newestSource is the most recently changed file the modules are built from: go.mod, go.sum and
// the non-test Go files of modules/ and internal/ (but internal/testbed, which no module imports).
func newestSource(root string) (source, error) {
	var newest source
	consider := func(rel string) {
		st, err := os.Stat(filepath.Join(root, rel))
		if err == nil && st.ModTime().After(newest.at) {
			newest = source{rel, st.ModTime()}
		}
	}
	consider("go.mod")
	consider("go.sum")
	for _, dir := range []string{"modules", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if d.IsDir() && (rel == filepath.Join("internal", "testbed") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				consider(rel)
			}
			return nil
		})
		if err != nil {
			return source{}, fmt.Errorf("walk %s: %w", dir, err)
		}
	}
	return newest, nil
}
