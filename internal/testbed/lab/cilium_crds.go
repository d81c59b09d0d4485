package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// registerCiliumCRDs stands in for cilium-operator: a real operator registers Cilium's CRDs when it
// starts (the chart ships none), but the lab's pods run nothing. The lab registers them up front from
// the Cilium Go module zip, so cilium_install's readiness wait, the CiliumNodeConfig of a live
// migration and translated CiliumNetworkPolicies find the API they need. They are inert until
// Cilium is installed, as on a real cluster after an operator ran once.
func (l *Lab) registerCiliumCRDs(ctx context.Context) error {
	mod, err := goModuleDir(ctx, l.cfg.WorkDir, defaults.LabCiliumModule+"@"+defaults.LabCiliumModuleVersion)
	if err != nil {
		return fmt.Errorf("get Cilium's CRDs: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(mod, "pkg", "k8s", "apis", "cilium.io", "client", "crds", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no Cilium CRDs in %s (%v)", mod, err)
	}
	var crds []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read Cilium CRD: %w", err)
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &obj.Object); err != nil {
			return fmt.Errorf("parse Cilium CRD %s: %w", f, err)
		}
		crds = append(crds, obj)
	}
	return l.applyWithCRDs(ctx, crds)
}
