package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// WriteJSON writes the report where a later run can read it as its baseline.
func WriteJSON(path string, r *result.Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("render result JSON: %w", err)
	}
	return writeFile(path, append(b, '\n'))
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(path string, r *result.Report) error {
	b, err := JUnit(r)
	if err != nil {
		return err
	}
	return writeFile(path, b)
}

// writeFile replaces path atomically (a reader never sees half a file).
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
