// Command probe_file is a test fixture, not a product module: an Ansible binary module whose
// effect is visible from outside (it writes one file), so the SSH test can prove what the real
// modules cannot show without a cluster — that check mode changes nothing, diff shows the change,
// a second run changes nothing, and the module ran inside the node host's namespaces.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
)

var spec = ansible.Spec{
	Name: "probe_file",
	Options: map[string]ansible.Option{
		"path":    {Type: ansible.TypePath, Required: true, Aliases: []string{"dest"}},
		"content": {Type: ansible.TypeStr, Required: true},
		"mkdir":   {Type: ansible.TypeBool, Default: false},
		"mode":    {Type: ansible.TypeInt, Default: int64(0o644)},
	},
	SupportsCheckMode: true,
}

type args struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	Mkdir   bool   `json:"mkdir"`
	Mode    int64  `json:"mode"`
}

type values struct {
	Path     string `json:"path"`
	Hostname string `json:"hostname"`
}

func main() { ansible.Main(spec, handle) }

func handle(_ context.Context, req *ansible.Request) (*ansible.Result, error) {
	var a args
	if err := req.Decode(&a); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	res := &ansible.Result{Values: values{Path: a.Path, Hostname: host}}
	before, err := os.ReadFile(a.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("read %s: %w", a.Path, err)
	}
	if err == nil && string(before) == a.Content {
		res.Msg = "content already in place"
		return res, nil
	}
	res.Changed = true
	res.Diff = []ansible.Diff{{Before: string(before), After: a.Content, BeforeHeader: a.Path, AfterHeader: a.Path}}
	if req.CheckMode {
		res.Msg = "would write " + a.Path
		return res, nil
	}
	if a.Mkdir {
		if err := os.MkdirAll(filepath.Dir(a.Path), 0o755); err != nil {
			return res, fmt.Errorf("create parent of %s: %w", a.Path, err)
		}
	}
	if err := os.WriteFile(a.Path, []byte(a.Content), fs.FileMode(a.Mode)); err != nil {
		return res, fmt.Errorf("write %s: %w", a.Path, err)
	}
	res.Msg = "wrote " + a.Path
	return res, nil
}
