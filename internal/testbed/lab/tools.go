package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Tools are the absolute paths of the binaries the lab runs.
type Tools struct {
	Dir                                                 string
	KubeApiserver, KubeControllerManager, KubeScheduler string
	Kubectl, Etcd, Kwok, Kwokctl                        string
}

// tool is one binary: its name and the version line its --version prints.
type tool struct {
	name, wantVersion string
	path              func(*Tools) *string
}

var tools = []tool{
	{"kube-apiserver", "Kubernetes " + defaults.LabKubeVersion, func(t *Tools) *string { return &t.KubeApiserver }},
	{"kube-controller-manager", "Kubernetes " + defaults.LabKubeVersion, func(t *Tools) *string { return &t.KubeControllerManager }},
	{"kube-scheduler", "Kubernetes " + defaults.LabKubeVersion, func(t *Tools) *string { return &t.KubeScheduler }},
	{"kubectl", "", func(t *Tools) *string { return &t.Kubectl }},
	{"etcd", "etcd Version: " + strings.TrimPrefix(defaults.LabEtcdVersion, "v"), func(t *Tools) *string { return &t.Etcd }},
	{"kwok", "kwok version " + defaults.LabKwokVersion, func(t *Tools) *string { return &t.Kwok }},
	{"kwokctl", "kwokctl version " + defaults.LabKwokVersion, func(t *Tools) *string { return &t.Kwokctl }},
}

// ErrToolsMissing is wrapped by FindTools when binaries are absent.
var ErrToolsMissing = errors.New("lab tools missing")

// FindTools checks that dir holds every binary the lab needs, each of the pinned version, and
// returns their paths. It never builds or downloads anything: the error says to run `make tools`
// (hack/tools.sh).
func FindTools(ctx context.Context, dir string) (*Tools, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("tools dir %s: %w", dir, err)
	}
	t := &Tools{Dir: abs}
	var missing []string
	for _, tl := range tools {
		p := filepath.Join(abs, tl.name)
		st, err := os.Stat(p)
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, tl.name)
			continue
		}
		*tl.path(t) = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w in %s: %s; build them with `make tools` (hack/tools.sh), or point ToolsDir/--tools-dir at a directory that has them",
			ErrToolsMissing, abs, strings.Join(missing, ", "))
	}
	var wrong []string
	for _, tl := range tools {
		if tl.wantVersion == "" {
			continue
		}
		got, err := versionLine(ctx, *tl.path(t))
		if err != nil {
			wrong = append(wrong, fmt.Sprintf("%s: %v", tl.name, err))
		} else if !strings.HasPrefix(got, tl.wantVersion) {
			wrong = append(wrong, fmt.Sprintf("%s reports %q, want %q", tl.name, got, tl.wantVersion))
		}
	}
	if len(wrong) > 0 {
		return nil, fmt.Errorf("lab tools in %s have the wrong version: %s; rebuild them with `make tools` (hack/tools.sh)",
			abs, strings.Join(wrong, "; "))
	}
	return t, nil
}

// versionLine runs `<bin> --version` and returns the first line of its output.
func versionLine(ctx context.Context, bin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", bin, err, strings.TrimSpace(string(out)))
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line), nil
}
