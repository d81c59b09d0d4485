package state

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/yaml"
)

// write stores the record (nil: deletes the ConfigMap). The update carries the resourceVersion read,
// and the delete a precondition on it, so a concurrent writer makes Run re-read and re-plan.
func write(ctx context.Context, cms corev1client.ConfigMapsGetter, cm *corev1.ConfigMap, after *Record, p Parameters) error {
	api := cms.ConfigMaps(p.Namespace)
	if after == nil {
		err := api.Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &cm.ResourceVersion}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete migration state ConfigMap %s: %w", p.Ref(), err)
		}
		return nil
	}
	data, err := encode(after)
	if err != nil {
		return err
	}
	if cm == nil {
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "cnimigrate"}}, Data: data}
		if _, err := api.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("configmaps"), p.Name, err)
			}
			return fmt.Errorf("create migration state ConfigMap %s: %w", p.Ref(), err)
		}
		return nil
	}
	cm = cm.DeepCopy()
	cm.Data = data
	if _, err := api.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return err
		}
		return fmt.Errorf("update migration state ConfigMap %s: %w", p.Ref(), err)
	}
	return nil
}

// Render shows a record as YAML for diffs ("" when there is none).
func Render(r *Record) string {
	if r == nil {
		return ""
	}
	b, err := yaml.Marshal(r)
	if err != nil {
		return fmt.Sprintf("(cannot render: %v)\n", err)
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
