package cluster

import (
	"encoding/json"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// serverFields are metadata the API server owns: they differ between clusters and between reads
// of the same object, and a create refuses most of them.
var serverFields = []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
	"selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"}

// gcFinalizers are added by the garbage collector while an object is being deleted.
var gcFinalizers = map[string]bool{"foregroundDeletion": true, "orphan": true}

// clean returns the part of an object a backup keeps and a restore needs: everything but the
// server's bookkeeping and status. Labels, annotations, finalizers and owner references are kept
// (the backup is a record; restore decides what to re-apply).
func clean(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := u.DeepCopy()
	for _, f := range serverFields {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	if fins := c.GetFinalizers(); len(fins) > 0 {
		var keep []string
		for _, f := range fins {
			if !gcFinalizers[f] {
				keep = append(keep, f)
			}
		}
		c.SetFinalizers(keep)
	}
	delete(c.Object, "status")
	return c
}

// forCreate prepares a backed-up object for re-creation in a (possibly different) cluster: owner
// references point at UIDs that no longer exist (the garbage collector would delete the object at
// once), and a Service's cluster IPs belong to the old cluster's allocation.
func forCreate(u *unstructured.Unstructured) (obj *unstructured.Unstructured, droppedOwners bool) {
	c := clean(u)
	if len(c.GetOwnerReferences()) > 0 {
		c.SetOwnerReferences(nil)
		droppedOwners = true
	}
	if c.GetKind() == "Service" {
		unstructured.RemoveNestedField(c.Object, "spec", "clusterIP")
		unstructured.RemoveNestedField(c.Object, "spec", "clusterIPs")
	}
	return c, droppedOwners
}

// sameObject compares two cleaned objects as JSON values (an API read has int64 where a YAML read
// has float64; JSON makes them agree).
func sameObject(a, b *unstructured.Unstructured) bool {
	return reflect.DeepEqual(jsonValue(a.Object), jsonValue(b.Object))
}

func jsonValue(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil
	}
	return out
}
