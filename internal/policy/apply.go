package policy

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// What applying one object does.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
)

// Change is the plan for one translated object.
type Change struct {
	ObjectRef
	Action string `json:"action"`
	// Before and After render the object as the cluster has it and as it will be (for --diff).
	Before, After string `json:"-"`
	desired       map[string]any
}

func resourceOf(kind string) schema.GroupVersionResource {
	if kind == KindCiliumClusterwide {
		return CCNPResource
	}
	return CNPResource
}

// PlanObjects compares every object with the cluster's copy. It fails when Cilium's CRDs are not
// served, or when an object of the same name exists that cnimigrate does not manage.
func PlanObjects(ctx context.Context, dyn dynamic.Interface, objs []CiliumPolicy) ([]Change, error) {
	for _, gvr := range []schema.GroupVersionResource{CNPResource, CCNPResource} {
		if _, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("%s is not served: Cilium's CRDs are not installed (install Cilium first, or set apply to false)", gvr.GroupResource())
			}
			return nil, fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
		}
	}
	changes := make([]Change, 0, len(objs))
	for _, o := range objs {
		ch, err := planObject(ctx, dyn, o)
		if err != nil {
			return nil, err
		}
		changes = append(changes, ch)
	}
	return changes, nil
}

func planObject(ctx context.Context, dyn dynamic.Interface, o CiliumPolicy) (Change, error) {
	ref := ObjectRef{Kind: o.Kind, Namespace: o.Metadata.Namespace, Name: o.Metadata.Name}
	desired, err := ToUnstructured(o)
	if err != nil {
		return Change{}, err
	}
	after, err := yaml.Marshal(desired)
	if err != nil {
		return Change{}, fmt.Errorf("render %s: %w", ref, err)
	}
	ch := Change{ObjectRef: ref, Action: ActionCreate, After: string(after), desired: desired}
	existing, err := dyn.Resource(resourceOf(o.Kind)).Namespace(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ch, nil
	}
	if err != nil {
		return Change{}, fmt.Errorf("get %s: %w", ref, err)
	}
	if existing.GetLabels()[defaults.ManagedByLabel] != defaults.ManagedByValue {
		return Change{}, fmt.Errorf("%s exists and is not managed by cnimigrate (no label %s=%s): not overwriting it; rename or delete it",
			ref, defaults.ManagedByLabel, defaults.ManagedByValue)
	}
	before, err := yaml.Marshal(trimmed(existing.Object))
	if err != nil {
		return Change{}, fmt.Errorf("render %s: %w", ref, err)
	}
	ch.Before, ch.Action = string(before), ActionUpdate
	if upToDate(desired, existing.Object) {
		ch.Action = ActionUnchanged
	}
	return ch, nil
}

// ApplyObjects applies (server-side, as cnimigrate's field manager) every object to create or
// update. It stops at the first failure; done lists what was applied before it.
func ApplyObjects(ctx context.Context, dyn dynamic.Interface, changes []Change) (done []Change, err error) {
	force := true
	for _, ch := range changes {
		if ch.Action == ActionUnchanged {
			continue
		}
		data, err := json.Marshal(ch.desired)
		if err != nil {
			return done, fmt.Errorf("encode %s: %w", ch.ObjectRef, err)
		}
		_, err = dyn.Resource(resourceOf(ch.Kind)).Namespace(ch.Namespace).Patch(ctx, ch.Name, types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: defaults.PolicyFieldManager, Force: &force})
		if err != nil {
			return done, fmt.Errorf("apply %s: %w", ch.ObjectRef, err)
		}
		done = append(done, ch)
	}
	return done, nil
}

// trimmed keeps what the translation sets: identity, our labels and annotations, spec(s).
func trimmed(obj map[string]any) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	keep := map[string]any{"apiVersion": obj["apiVersion"], "kind": obj["kind"]}
	meta := map[string]any{"name": md["name"]}
	for _, k := range []string{"namespace", "labels", "annotations"} {
		if v, ok := md[k]; ok {
			meta[k] = v
		}
	}
	if ann, ok := meta["annotations"].(map[string]any); ok {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
	}
	keep["metadata"] = meta
	for _, k := range []string{"spec", "specs"} {
		if v, ok := obj[k]; ok {
			keep[k] = v
		}
	}
	return keep
}

// upToDate: the cluster's object has every field and value the translation sets (it may have
// more, defaulted by the API server), and no spec/specs the translation does not set.
func upToDate(desired, existing map[string]any) bool {
	for _, k := range []string{"spec", "specs"} {
		d, dok := desired[k]
		e, eok := existing[k]
		if dok != eok || (dok && !subsetOf(d, e)) {
			return false
		}
	}
	dm, _ := desired["metadata"].(map[string]any)
	em, _ := existing["metadata"].(map[string]any)
	for _, k := range []string{"labels", "annotations"} {
		if !subsetOf(dm[k], em[k]) {
			return false
		}
	}
	return true
}

func subsetOf(d, e any) bool {
	switch dv := d.(type) {
	case nil:
		return true
	case map[string]any:
		em, ok := e.(map[string]any)
		if !ok {
			return len(dv) == 0 && e == nil
		}
		for k, v := range dv {
			ev, present := em[k]
			if !present || !subsetOf(v, ev) {
				return false
			}
		}
		return true
	case []any:
		el, ok := e.([]any)
		if !ok || len(el) != len(dv) {
			return false
		}
		for i := range dv {
			if !subsetOf(dv[i], el[i]) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(number(d)) == fmt.Sprint(number(e))
}

// number makes JSON numbers (float64) and unstructured ones (int64) comparable.
func number(v any) any {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	}
	return v
}
