package cluster

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Calico's namespaces, deleted after everything inside them had its chance to be cleaned up.
var calicoNamespaces = []string{defaults.CalicoSystemNamespace, defaults.CalicoAPIServerNS, defaults.TigeraOperatorNS}

const tigeraOperator = "tigera-operator"

// namedTargets are the manifest's (calico.yaml, kube-system) objects and the operator's Deployment,
// by exact name: a user's object that merely shares a prefix is never deleted.
var namedTargets = []struct {
	gvr   schema.GroupVersionResource
	ns    string
	names []string
}{
	{gvrDeployment, defaults.TigeraOperatorNS, []string{tigeraOperator}},
	{gvrDaemonSet, defaults.CalicoNamespace, []string{defaults.CalicoNodeDaemonSet}},
	{gvrDeployment, defaults.CalicoNamespace, []string{"calico-kube-controllers", "calico-typha"}},
	{gvrService, defaults.CalicoNamespace, []string{"calico-typha", "calico-kube-controllers-metrics"}},
	{gvrPDB, defaults.CalicoNamespace, []string{"calico-kube-controllers", "calico-typha"}},
	{gvrConfigMap, defaults.CalicoNamespace, []string{"calico-config"}},
	{gvrServiceAccount, defaults.CalicoNamespace, []string{"calico-node", "calico-cni-plugin", "calico-kube-controllers", "calico-typha"}},
}

// rbacPrefixes select Calico's RBAC objects: both installers name every role and binding
// calico-* or tigera-* (calico-node, calico-cni-plugin, calico-kube-controllers, calico-typha,
// calico-crds, calico-apiserver-*, tigera-operator, …).
var rbacPrefixes = []string{"calico-", "tigera-"}

// prefixTargets are listed and filtered by rbacPrefixes (namespace "" = cluster-scoped).
var prefixTargets = []struct {
	gvr schema.GroupVersionResource
	ns  string
}{
	{gvrClusterRole, ""}, {gvrClusterRoleBinding, ""},
	{gvrRole, defaults.CalicoNamespace}, {gvrRoleBinding, defaults.CalicoNamespace},
}

// IsCalicoRBACName reports whether a ClusterRole, ClusterRoleBinding, Role or RoleBinding name is
// Calico's. Cilium's (cilium, cilium-operator, …) never are.
func IsCalicoRBACName(name string) bool {
	if strings.Contains(name, "cilium") {
		return false
	}
	for _, p := range rbacPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// findTargets returns the objects of namedTargets and prefixTargets that exist, one KindObjects
// per resource (the operator's Deployment is the one Deployment outside kube-system).
func findTargets(ctx context.Context, dyn dynamic.Interface) ([]KindObjects, error) {
	byGVR := map[schema.GroupVersionResource]*KindObjects{}
	var order []schema.GroupVersionResource
	add := func(gvr schema.GroupVersionResource, u unstructured.Unstructured) {
		if byGVR[gvr] == nil {
			byGVR[gvr] = &KindObjects{GVR: gvr, Kind: kinds[gvr], Namespaced: u.GetNamespace() != ""}
			order = append(order, gvr)
		}
		byGVR[gvr].Objects = append(byGVR[gvr].Objects, u)
	}
	for _, t := range namedTargets {
		for _, name := range t.names {
			u, err := dyn.Resource(t.gvr).Namespace(t.ns).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("get %s: %w", Ref{GVR: t.gvr, Namespace: t.ns, Name: name}, err)
			}
			add(t.gvr, *u)
		}
	}
	for _, t := range prefixTargets {
		objs, err := listAll(ctx, dyn, t.gvr, t.ns)
		if err != nil {
			return nil, err
		}
		for _, u := range objs {
			if IsCalicoRBACName(u.GetName()) {
				add(t.gvr, u)
			}
		}
	}
	out := make([]KindObjects, 0, len(order))
	for _, gvr := range order {
		sortObjects(byGVR[gvr].Objects)
		out = append(out, *byGVR[gvr])
	}
	return out, nil
}

// versions reads Calico's version from, in order, the calico-node image (manifest, or calico-system
// for the operator), ClusterInformation "default" (calico-node writes it) and the Installation's
// status; and the operator's version from its image.
func versions(ctx context.Context, dyn dynamic.Interface, inv *inventory) (calico, operator string) {
	if op := inv.target(gvrDeployment, defaults.TigeraOperatorNS, tigeraOperator); op != nil {
		operator = containerTag(op, tigeraOperator)
	}
	if ds := inv.target(gvrDaemonSet, defaults.CalicoNamespace, defaults.CalicoNodeDaemonSet); ds != nil {
		calico = containerTag(ds, "calico-node")
	}
	if calico == "" {
		ds, err := dyn.Resource(gvrDaemonSet).Namespace(defaults.CalicoSystemNamespace).Get(ctx, defaults.CalicoNodeDaemonSet, metav1.GetOptions{})
		if err == nil {
			calico = containerTag(ds, "calico-node")
		}
	}
	if ci := inv.cr("clusterinformations", defaults.CalicoCRDGroup); calico == "" && ci != nil {
		for _, o := range ci.Objects {
			calico, _, _ = unstructured.NestedString(o.Object, "spec", "calicoVersion")
		}
	}
	if in := inv.cr("installations", defaults.TigeraOperatorGroup); calico == "" && in != nil {
		for _, o := range in.Objects {
			calico, _, _ = unstructured.NestedString(o.Object, "status", "calicoVersion")
		}
	}
	return calico, operator
}

// containerTag returns the image tag of the named container of a workload ("" when untagged).
func containerTag(u *unstructured.Unstructured, container string) string {
	cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	for _, c := range cs {
		cm, _ := c.(map[string]any)
		if cm["name"] == container {
			image, _ := cm["image"].(string)
			return imageTag(image)
		}
	}
	return ""
}

// imageTag returns the tag of an image reference: "docker.io/calico/node:v3.28.5@sha256:…" → "v3.28.5".
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon <= slash {
		return ""
	}
	return image[colon+1:]
}
