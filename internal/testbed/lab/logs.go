package lab

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ExportLogs copies the control plane's logs (kwokctl's cluster logs dir), kwokctl's own log and
// the state file into dest, for a failed test to keep.
func (l *Lab) ExportLogs(dest string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("export lab logs: %w", err)
	}
	srcs := map[string]string{
		filepath.Join(l.state.KwokDir, "clusters", l.cfg.Name, "logs"): "logs",
		filepath.Join(l.cfg.WorkDir, kwokctlLogName):                   kwokctlLogName,
		filepath.Join(l.cfg.WorkDir, StateName):                        StateName,
	}
	for src, name := range srcs {
		if err := copyTree(src, filepath.Join(dest, name)); err != nil {
			return fmt.Errorf("export lab logs: %w", err)
		}
	}
	return nil
}

// copyTree copies a file or a directory tree; a missing source is skipped.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
