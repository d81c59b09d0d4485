package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// diagnose says why objects did not go: their finalizers, or for a namespace the objects inside it
// with finalizers, or for a CRD its custom resources with finalizers.
func (r *remover) diagnose(ctx context.Context, refs []Ref) []Stuck {
	var out []Stuck
	for _, ref := range refs {
		u, err := ref.client(r.Dynamic).Get(ctx, ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			out = append(out, Stuck{Object: ref.String(), Reason: "cannot read it: " + err.Error(), ref: ref})
			continue
		}
		var inside []Stuck
		switch ref.GVR {
		case gvrNamespace:
			inside = r.holders(ctx, r.namespacedResources(), ref.Name)
		case gvrCRD:
			if ko, err := crdKind(u); err == nil {
				inside = r.holders(ctx, []schema.GroupVersionResource{ko.GVR}, "")
			}
		}
		out = append(out, inside...)
		foreign, system := splitFinalizers(u.GetFinalizers())
		switch {
		case len(foreign) > 0:
			out = append(out, Stuck{Object: ref.String(), Finalizers: foreign, ref: ref})
		case len(inside) == 0:
			reason := stillDeleting(u)
			if len(system) > 0 {
				reason += " (waiting for Kubernetes' own finalizer " + strings.Join(system, ", ") + ", which is never stripped)"
			}
			out = append(out, Stuck{Object: ref.String(), Reason: reason, ref: ref})
		}
	}
	return out
}

func stillDeleting(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var msgs []string
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["status"] == "True" && cm["message"] != nil {
			msgs = append(msgs, fmt.Sprint(cm["message"]))
		}
	}
	if len(msgs) > 0 {
		return "still being deleted: " + strings.Join(msgs, "; ")
	}
	return "still being deleted (no finalizers: its controller or the garbage collector has not finished)"
}

// holders lists the objects of the given resources (in ns, or everywhere) that carry finalizers.
func (r *remover) holders(ctx context.Context, gvrs []schema.GroupVersionResource, ns string) []Stuck {
	var out []Stuck
	for _, gvr := range gvrs {
		objs, err := listAll(ctx, r.Dynamic, gvr, ns)
		if err != nil {
			continue // a kind that cannot be listed cannot be stripped either; its namespace says so
		}
		for i := range objs {
			if fins, _ := splitFinalizers(objs[i].GetFinalizers()); len(fins) > 0 {
				ref := refOf(gvr, &objs[i])
				out = append(out, Stuck{Object: ref.String(), Finalizers: fins, ref: ref})
			}
		}
	}
	return out
}

// namespacedResources lists every namespaced resource that can be listed. Discovery failing for
// some groups (a stale APIService) still yields the others.
func (r *remover) namespacedResources() []schema.GroupVersionResource {
	lists, err := r.Kube.Discovery().ServerPreferredNamespacedResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil
	}
	var out []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			if strings.Contains(res.Name, "/") || !hasVerb(res.Verbs, "list") {
				continue
			}
			out = append(out, gv.WithResource(res.Name))
		}
	}
	return out
}

func hasVerb(verbs metav1.Verbs, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

// systemFinalizers belong to Kubernetes itself: the apiextensions controller (a CRD's objects are
// being deleted), the garbage collector and the namespace controller. Stripping them orphans data
// (a CRD's objects would reappear with it) or dependents, so they are waited for, never stripped.
var systemFinalizers = map[string]bool{
	"customresourcecleanup.apiextensions.k8s.io": true, "foregroundDeletion": true, "orphan": true, "kubernetes": true,
}

// splitFinalizers separates the finalizers a controller of Calico's (or anyone's) set from Kubernetes' own.
func splitFinalizers(fins []string) (foreign, system []string) {
	for _, f := range fins {
		if systemFinalizers[f] {
			system = append(system, f)
		} else {
			foreign = append(foreign, f)
		}
	}
	return foreign, system
}

// strip removes the (non-system) finalizers of stuck objects and records each in the report.
func (r *remover) strip(ctx context.Context, stuck []Stuck) error {
	for _, s := range stuck {
		if len(s.Finalizers) == 0 {
			continue
		}
		u, err := s.ref.client(r.Dynamic).Get(ctx, s.ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("strip finalizers of %s: %w", s.Object, err)
		}
		_, keep := splitFinalizers(u.GetFinalizers())
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": keep}})
		if err != nil {
			return err
		}
		_, err = s.ref.client(r.Dynamic).Patch(ctx, s.ref.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("strip finalizers of %s: %w", s.Object, err)
		}
		r.rep.Stripped = append(r.rep.Stripped, s)
	}
	return nil
}

// drainKinds are what "calico-system is empty" means: the operator has removed its workloads.
var drainKinds = []schema.GroupVersionResource{gvrDaemonSet, gvrDeployment, gvrPod}

// drain waits for the operator to empty ns after the Installation is gone. If it does not, the
// removal stops (the operator is not cleaning up) unless finalizers may be stripped: then the
// namespace's deletion removes what is left and the run goes on.
func (r *remover) drain(ctx context.Context, ns string) error {
	var left []Stuck
	err := wait.For(ctx, "namespace "+ns+" to be emptied by the tigera-operator", r.p.Timeout, 0,
		func(ctx context.Context) (bool, string, error) {
			left = nil
			for _, gvr := range drainKinds {
				objs, err := listAll(ctx, r.Dynamic, gvr, ns)
				if err != nil {
					return false, "", err
				}
				for i := range objs {
					ref := refOf(gvr, &objs[i])
					left = append(left, Stuck{Object: ref.String(), Finalizers: objs[i].GetFinalizers(), ref: ref,
						Reason: "not removed by the tigera-operator"})
				}
			}
			return len(left) == 0, fmt.Sprintf("%d workload objects left", len(left)), nil
		})
	if err == nil || !isTimeout(err) {
		return err
	}
	if r.p.StripFinalizers {
		r.rep.Warnings = append(r.rep.Warnings, fmt.Sprintf("%s was not emptied by the tigera-operator within %s "+
			"(%d workload objects left); going on because strip_finalizers is set: the namespace's deletion removes them",
			ns, r.p.Timeout, len(left)))
		return nil
	}
	r.rep.Stuck = append(r.rep.Stuck, left...)
	return fmt.Errorf("%w; the tigera-operator did not remove calico-system's workloads after the Installation was deleted "+
		"(is it running?); set strip_finalizers: true to go on without it", err)
}
