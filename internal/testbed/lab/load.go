package lab

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// loadPodsPerDeployment is the size of each benchmark Deployment.
const loadPodsPerDeployment = 50

// loadObjects returns namespace "load" with Deployments holding n pods in all (Config.ExtraPods).
func loadObjects(n int) []*unstructured.Unstructured {
	if n <= 0 {
		return nil
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "load", "labels": map[string]any{"name": "load"}},
	}}
	objs := []*unstructured.Unstructured{ns}
	for i := 0; n > 0; i++ {
		replicas := min(n, loadPodsPerDeployment)
		n -= replicas
		name := fmt.Sprintf("load-%d", i)
		labels := map[string]any{"app": name}
		objs = append(objs, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": "load"},
			"spec": map[string]any{
				"replicas": int64(replicas),
				"selector": map[string]any{"matchLabels": labels},
				"template": map[string]any{
					"metadata": map[string]any{"labels": labels},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "app", "image": "registry.k8s.io/pause:3.10",
						"resources": map[string]any{"requests": map[string]any{"cpu": "1m", "memory": "1Mi"}},
					}}},
				},
			},
		}})
	}
	return objs
}
