package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// calicoGroups are the API groups whose every kind is Calico's.
var calicoGroups = []string{defaults.CalicoCRDGroup, defaults.TigeraOperatorGroup}

// KindObjects is every object of one kind: the unit of discovery, of a backup file, of restore.
type KindObjects struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
	Objects    []unstructured.Unstructured
}

// inventory is what of Calico a cluster holds.
type inventory struct {
	crds       KindObjects   // the CRDs of calicoGroups
	crs        []KindObjects // one per CRD, in CRD name order
	targets    []KindObjects // the manifest's and operator's objects, deleted one by one
	namespaces []string      // Calico's namespaces that exist
	nsObjects  KindObjects   // and their objects
	nsContents []KindObjects // their Secrets and ConfigMaps (backed up; the namespaces' deletion takes them)
	apiService bool          // v3.projectcalico.org exists
	policies   KindObjects   // every Kubernetes NetworkPolicy (backed up, never deleted)
}

// discover reads everything Calico has in the cluster. It fails when the API cannot be read:
// nothing is planned from a partial view.
func discover(ctx context.Context, dyn dynamic.Interface) (*inventory, error) {
	inv := &inventory{}
	crds, err := listAll(ctx, dyn, gvrCRD, "")
	if err != nil {
		return nil, err
	}
	inv.crds = KindObjects{GVR: gvrCRD, Kind: kinds[gvrCRD]}
	for _, crd := range crds {
		if isCalicoCRD(&crd) {
			inv.crds.Objects = append(inv.crds.Objects, crd)
		}
	}
	sortObjects(inv.crds.Objects)
	for i := range inv.crds.Objects {
		ko, err := crdKind(&inv.crds.Objects[i])
		if err != nil {
			return nil, err
		}
		if ko.Objects, err = listAll(ctx, dyn, ko.GVR, ""); err != nil {
			return nil, err
		}
		sortObjects(ko.Objects)
		inv.crs = append(inv.crs, ko)
	}
	if inv.targets, err = findTargets(ctx, dyn); err != nil {
		return nil, err
	}
	inv.nsObjects = KindObjects{GVR: gvrNamespace, Kind: kinds[gvrNamespace]}
	if inv.nsObjects.Objects, err = existing(ctx, dyn, gvrNamespace, calicoNamespaces); err != nil {
		return nil, err
	}
	for _, ns := range inv.nsObjects.Objects {
		inv.namespaces = append(inv.namespaces, ns.GetName())
	}
	if inv.nsContents, err = namespaceContents(ctx, dyn, inv.namespaces); err != nil {
		return nil, err
	}
	apiServices, err := existing(ctx, dyn, gvrAPIService, []string{defaults.CalicoAPIServiceName})
	if err != nil {
		return nil, err
	}
	inv.apiService = len(apiServices) > 0
	inv.policies = KindObjects{GVR: gvrNetworkPolicy, Kind: kinds[gvrNetworkPolicy], Namespaced: true}
	if inv.policies.Objects, err = listAll(ctx, dyn, gvrNetworkPolicy, ""); err != nil {
		return nil, err
	}
	sortObjects(inv.policies.Objects)
	return inv, nil
}

func isCalicoCRD(crd *unstructured.Unstructured) bool {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	for _, g := range calicoGroups {
		if group == g {
			return true
		}
	}
	return false
}

// crdKind describes the objects of a CRD, read through its storage version.
func crdKind(crd *unstructured.Unstructured) (KindObjects, error) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(crd.Object, "spec", "scope")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	version := ""
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		if storage, _ := vm["storage"].(bool); storage || version == "" {
			version, _ = vm["name"].(string)
		}
	}
	if plural == "" || version == "" {
		return KindObjects{}, fmt.Errorf("CRD %s has no plural name or no version", crd.GetName())
	}
	gvr := schema.GroupVersionResource{Group: group, Version: version, Resource: plural}
	return KindObjects{GVR: gvr, Kind: kind, Namespaced: scope == "Namespaced"}, nil
}

// existing returns those of the named cluster-scoped objects that exist.
func existing(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, names []string) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	for _, n := range names {
		u, err := dyn.Resource(gvr).Get(ctx, n, metav1.GetOptions{})
		switch {
		case err == nil:
			out = append(out, *u)
		case apierrors.IsNotFound(err):
		default:
			return nil, fmt.Errorf("get %s: %w", Ref{GVR: gvr, Name: n}, err)
		}
	}
	return out, nil
}

func sortObjects(objs []unstructured.Unstructured) {
	sort.Slice(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// cr returns the objects of one Calico kind by resource and group ("installations", operator group).
func (inv *inventory) cr(resource, group string) *KindObjects {
	for i := range inv.crs {
		if inv.crs[i].GVR.Resource == resource && inv.crs[i].GVR.Group == group {
			return &inv.crs[i]
		}
	}
	return nil
}

// Flavour names how Calico was installed: "operator", "manifest", both joined by "+" (an operator
// install with manifest leftovers), or "none".
func (inv *inventory) flavour() string {
	var f []string
	if inv.cr("installations", defaults.TigeraOperatorGroup) != nil || contains(inv.namespaces, defaults.TigeraOperatorNS) {
		f = append(f, "operator")
	}
	if inv.target(gvrDaemonSet, defaults.CalicoNamespace, defaults.CalicoNodeDaemonSet) != nil {
		f = append(f, "manifest")
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, "+")
}

// target finds one object among the targets.
func (inv *inventory) target(gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	for _, ko := range inv.targets {
		if ko.GVR != gvr {
			continue
		}
		for i := range ko.Objects {
			if ko.Objects[i].GetNamespace() == ns && ko.Objects[i].GetName() == name {
				return &ko.Objects[i]
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
