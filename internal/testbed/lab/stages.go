package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// kwokModule is the module whose kustomize/stage directory holds kwok's Stage manifests (the same
// version as the kwok binaries hack/tools.sh builds, so it is already in the module cache).
const kwokModule = "sigs.k8s.io/kwok"

// kwokStageFiles are the stages a lab with Config.PodStartDelay runs, relative to
// kustomize/stage: the node stages kwokctl uses by default (its kwok runs with node leases) and
// kwok's "general" pod stages. Once a kwokctl config names any Stage, kwokctl adds none of its own.
var kwokStageFiles = []string{
	"node/fast/node-initialize.yaml",
	"node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"pod/general/pod-create.yaml",
	"pod/general/pod-ready.yaml",
	"pod/general/pod-complete.yaml",
	"pod/general/pod-delete.yaml",
	"pod/general/pod-init-container-running.yaml",
	"pod/general/pod-init-container-completed.yaml",
}

// podStartStages are the general stages whose delay PodStartDelay sets; per-pod annotations
// (pod-create.stage.kwok.x-k8s.io/delay, …) still override it.
var podStartStages = map[string]bool{"pod-create": true, "pod-ready": true}

// kwokStages renders the Stage documents for a pod start-up delay (nil for 0: kwokctl's defaults).
// dir is any directory outside a Go module (go runs there to find kwok's module).
func kwokStages(ctx context.Context, dir string, delay time.Duration) ([]byte, error) {
	if delay <= 0 {
		return nil, nil
	}
	mod, err := goModuleDir(ctx, dir, kwokModule+"@"+defaults.LabKwokVersion)
	if err != nil {
		return nil, fmt.Errorf("get kwok's stages: %w", err)
	}
	var out bytes.Buffer
	for _, f := range kwokStageFiles {
		data, err := os.ReadFile(filepath.Join(mod, "kustomize", "stage", f))
		if err != nil {
			return nil, fmt.Errorf("kwok stage: %w", err)
		}
		doc, err := withDelay(data, delay)
		if err != nil {
			return nil, fmt.Errorf("kwok stage %s: %w", f, err)
		}
		out.WriteString("---\n")
		out.Write(doc)
	}
	return out.Bytes(), nil
}

// withDelay sets the delay of the pod-create and pod-ready stages to between delay/4 and
// 3·delay/4; other stages are returned as they are.
func withDelay(data []byte, delay time.Duration) ([]byte, error) {
	var stage struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(data, &stage); err != nil {
		return nil, err
	}
	if stage.Kind != "Stage" {
		return nil, fmt.Errorf("kind %q, want Stage", stage.Kind)
	}
	if !podStartStages[stage.Metadata.Name] {
		return data, nil
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	spec, _ := doc["spec"].(map[string]any)
	d, _ := spec["delay"].(map[string]any)
	if d == nil {
		return nil, fmt.Errorf("stage %s has no spec.delay", stage.Metadata.Name)
	}
	d["durationMilliseconds"] = (delay / 4).Milliseconds()
	d["jitterDurationMilliseconds"] = (delay * 3 / 4).Milliseconds()
	return yaml.Marshal(doc)
}
