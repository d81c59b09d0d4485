package cluster

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// The resources this package reads, deletes or restores besides Calico's own kinds.
var (
	gvrCRD                = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	gvrNamespace          = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrServiceAccount     = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	gvrConfigMap          = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrSecret             = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	gvrService            = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrPod                = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrDaemonSet          = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}
	gvrDeployment         = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrPDB                = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}
	gvrClusterRole        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	gvrClusterRoleBinding = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
	gvrRole               = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	gvrRoleBinding        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	gvrAPIService         = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
	gvrNetworkPolicy      = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
)

// kinds names the Kind of each built-in resource above (for backup files and fake clients).
var kinds = map[schema.GroupVersionResource]string{
	gvrCRD: "CustomResourceDefinition", gvrNamespace: "Namespace", gvrServiceAccount: "ServiceAccount",
	gvrConfigMap: "ConfigMap", gvrSecret: "Secret", gvrService: "Service", gvrPod: "Pod", gvrDaemonSet: "DaemonSet",
	gvrDeployment: "Deployment", gvrPDB: "PodDisruptionBudget", gvrClusterRole: "ClusterRole",
	gvrClusterRoleBinding: "ClusterRoleBinding", gvrRole: "Role", gvrRoleBinding: "RoleBinding",
	gvrAPIService: "APIService", gvrNetworkPolicy: "NetworkPolicy",
}

// Ref names one object.
type Ref struct {
	GVR       schema.GroupVersionResource
	Namespace string
	Name      string
}

// String reads like kubectl's resource.group/name, with the namespace in between when there is one:
// "daemonsets.apps/kube-system/calico-node", "installations.operator.tigera.io/default".
func (r Ref) String() string {
	res := resName(r.GVR)
	if r.Namespace != "" {
		return res + "/" + r.Namespace + "/" + r.Name
	}
	return res + "/" + r.Name
}

// resName is resource.group ("daemonsets.apps"), or the resource alone for the core group.
func resName(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource
	}
	return gvr.Resource + "." + gvr.Group
}

func refOf(gvr schema.GroupVersionResource, u *unstructured.Unstructured) Ref {
	return Ref{GVR: gvr, Namespace: u.GetNamespace(), Name: u.GetName()}
}

func (r Ref) client(dyn dynamic.Interface) dynamic.ResourceInterface {
	if r.Namespace != "" {
		return dyn.Resource(r.GVR).Namespace(r.Namespace)
	}
	return dyn.Resource(r.GVR)
}

// listPageSize bounds each list call; IPAM handles can number in the thousands.
const listPageSize = 500

// listAll lists every object of a resource (all namespaces when ns is ""), page by page.
func listAll(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns string) ([]unstructured.Unstructured, error) {
	var ri dynamic.ResourceInterface = dyn.Resource(gvr)
	if ns != "" {
		ri = dyn.Resource(gvr).Namespace(ns)
	}
	var out []unstructured.Unstructured
	opts := metav1.ListOptions{Limit: listPageSize}
	for {
		list, err := ri.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", resName(gvr), err)
		}
		out = append(out, list.Items...)
		if list.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = list.GetContinue()
	}
}
