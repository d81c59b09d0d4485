package cluster

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// nsContentKinds are what of a Calico namespace's contents a restore needs and nothing re-creates:
// the operator's CA and certificates, image pull secrets, CA bundles. Deleting the namespace deletes
// them, so the backup holds them.
var nsContentKinds = []schema.GroupVersionResource{gvrSecret, gvrConfigMap}

// regenerated says whether Kubernetes itself re-creates an object in every namespace: service
// account tokens and the kube-root-ca.crt ConfigMap. Backing them up would restore stale copies.
func regenerated(gvr schema.GroupVersionResource, u *unstructured.Unstructured) bool {
	switch gvr {
	case gvrSecret:
		typ, _, _ := unstructured.NestedString(u.Object, "type")
		return typ == "kubernetes.io/service-account-token"
	case gvrConfigMap:
		return u.GetName() == "kube-root-ca.crt"
	}
	return false
}

// namespaceContents lists the Secrets and ConfigMaps of the given namespaces, one KindObjects per kind.
func namespaceContents(ctx context.Context, dyn dynamic.Interface, namespaces []string) ([]KindObjects, error) {
	var out []KindObjects
	for _, gvr := range nsContentKinds {
		ko := KindObjects{GVR: gvr, Kind: kinds[gvr], Namespaced: true}
		for _, ns := range namespaces {
			objs, err := listAll(ctx, dyn, gvr, ns)
			if err != nil {
				return nil, err
			}
			for i := range objs {
				if !regenerated(gvr, &objs[i]) {
					ko.Objects = append(ko.Objects, objs[i])
				}
			}
		}
		sortObjects(ko.Objects)
		out = append(out, ko)
	}
	return out, nil
}

// merged adds the objects of extra to the KindObjects of the same resource in base (one backup
// file per resource: calico.yaml's calico-config and calico-system's ConfigMaps share one), and
// appends the kinds base lacks.
func merged(base, extra []KindObjects) []KindObjects {
	out := append([]KindObjects{}, base...)
	for _, e := range extra {
		found := false
		for i := range out {
			if out[i].GVR == e.GVR {
				out[i].Objects = append(append([]unstructured.Unstructured{}, out[i].Objects...), e.Objects...)
				found = true
			}
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}
