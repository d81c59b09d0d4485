package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// calicoManifestsDir returns <module dir>/manifests of the Calico snapshot the Go module proxy
// serves (calico.yaml, tigera-operator.yaml, custom-resources.yaml), downloading it into the module
// cache the first time. dir is any directory outside a Go module (go runs there).
func calicoManifestsDir(ctx context.Context, dir string) (string, error) {
	mod, err := goModuleDir(ctx, dir, defaults.LabCalicoModule+"@"+defaults.LabCalicoModuleVersion)
	if err != nil {
		return "", fmt.Errorf("get the Calico manifests: %w", err)
	}
	return filepath.Join(mod, "manifests"), nil
}

// ciliumChartDir returns the Cilium Helm chart inside the Cilium Go module zip (the lab is
// air-gapped, as many users' clusters are: the chart is a local directory, never a repository).
func ciliumChartDir(ctx context.Context, dir string) (string, error) {
	mod, err := goModuleDir(ctx, dir, defaults.LabCiliumModule+"@"+defaults.LabCiliumModuleVersion)
	if err != nil {
		return "", fmt.Errorf("get the Cilium chart: %w", err)
	}
	return filepath.Join(mod, "install", "kubernetes", "cilium"), nil
}

// goModuleDir returns the directory of module@version in the Go module cache, downloading it from
// the module proxy the first time. dir is any directory outside a Go module (go runs there).
func goModuleDir(ctx context.Context, dir, mod string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		msg := info.Error
		if ee, ok := err.(*exec.ExitError); ok && msg == "" {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("go mod download %s: %v %s", mod, err, msg)
	}
	return info.Dir, nil
}

// readManifest decodes one manifest file of the Calico snapshot.
func readManifest(dir, name string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("read Calico manifest: %w", err)
	}
	objs, err := decodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return objs, nil
}

// splitCRDs puts CustomResourceDefinitions first: they must be established before objects of
// their kinds can be applied.
func splitCRDs(objs []*unstructured.Unstructured) (crds, rest []*unstructured.Unstructured) {
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" {
			crds = append(crds, u)
		} else {
			rest = append(rest, u)
		}
	}
	return crds, rest
}

// setContainerEnv sets (or adds) environment variables of one container of a workload object.
func setContainerEnv(u *unstructured.Unstructured, container string, env map[string]string) error {
	containers, _, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return fmt.Errorf("%s: containers: %w", describe(u), err)
	}
	found := false
	for i, c := range containers {
		cm, _ := c.(map[string]any)
		if cm["name"] != container {
			continue
		}
		found = true
		list, _ := cm["env"].([]any)
		done := map[string]bool{}
		for j, e := range list {
			em, _ := e.(map[string]any)
			name, _ := em["name"].(string)
			if v, ok := env[name]; ok {
				list[j] = map[string]any{"name": name, "value": v}
				done[name] = true
			}
		}
		for _, name := range slices.Sorted(maps.Keys(env)) {
			if !done[name] {
				list = append(list, map[string]any{"name": name, "value": env[name]})
			}
		}
		cm["env"] = list
		containers[i] = cm
	}
	if !found {
		return fmt.Errorf("%s has no container %q", describe(u), container)
	}
	return unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers")
}
