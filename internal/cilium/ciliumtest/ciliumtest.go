// Package ciliumtest gives tests the real Cilium chart and stands in for cilium-operator in the lab.
//
// The Cilium chart does not ship Cilium's CRDs: cilium-operator registers them when it starts. The
// lab's pods are kwok's and run nothing, so a test (or the lab's e2e harness) that installs Cilium
// with waiting, or in migration mode (the CiliumNodeConfig needs its CRD), registers the CRDs with
// RegisterCRDs, from the same Cilium version as the chart.
package ciliumtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// Module is the Cilium release whose chart and CRDs the tests use. It is downloaded with
// `go mod download`; it is not a dependency of this module.
const Module = "github.com/cilium/cilium@v1.20.2"

var (
	once   sync.Once
	dir    string
	dirErr error
)

// SourceDir downloads (once per process) the Cilium module and returns its directory in the module
// cache. go.mod and go.sum are not touched (the download runs outside this module).
func SourceDir() (string, error) {
	once.Do(func() {
		tmp, err := os.MkdirTemp("", "ciliumtest-")
		if err != nil {
			dirErr = err
			return
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("go", "mod", "download", "-json", Module)
		cmd.Dir = tmp
		out, err := cmd.Output()
		if err != nil {
			dirErr = fmt.Errorf("go mod download %s: %w\n%s", Module, err, out)
			return
		}
		var info struct{ Dir, Error string }
		if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
			dirErr = fmt.Errorf("go mod download %s: no directory in %s (%v)", Module, out, err)
			return
		}
		dir = info.Dir
	})
	return dir, dirErr
}

// ChartDir returns the real Cilium chart (install/kubernetes/cilium of the module).
func ChartDir() (string, error) {
	src, err := SourceDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(src, "install", "kubernetes", "cilium"), nil
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// RegisterCRDs creates every Cilium CRD of the module (pkg/k8s/apis/cilium.io/client/crds), as
// cilium-operator does at start; existing ones are left alone. It returns the CRD names. The API
// server marks them established a moment later.
func RegisterCRDs(ctx context.Context, dyn dynamic.Interface) ([]string, error) {
	src, err := SourceDir()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(src, "pkg", "k8s", "apis", "cilium.io", "client", "crds", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no Cilium CRDs under %s (%v)", src, err)
	}
	var names []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return names, err
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &obj.Object); err != nil {
			return names, fmt.Errorf("parse %s: %w", f, err)
		}
		_, err = dyn.Resource(crdGVR).Create(ctx, obj, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return names, fmt.Errorf("create CRD %s: %w", obj.GetName(), err)
		}
		names = append(names, obj.GetName())
	}
	return names, nil
}
