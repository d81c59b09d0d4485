package cilium

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Node-config operations.
const (
	opNone   = ""
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
)

// nodeConfigPlan is what happens to the cilium-default CiliumNodeConfig.
type nodeConfigPlan struct {
	Op         string
	APIVersion string // cilium.io/v2 or cilium.io/v2alpha1
	Namespace  string
	Existing   *unstructured.Unstructured // nil when absent (or when the CRD is not registered yet)
}

func (n nodeConfigPlan) describe() string {
	return fmt.Sprintf("%s CiliumNodeConfig %s/%s (%s)", n.Op, n.Namespace, defaults.CiliumNodeConfigName, n.APIVersion)
}

func nodeConfigGVR(apiVersion string) schema.GroupVersionResource {
	gv, _ := schema.ParseGroupVersion(apiVersion)
	return gv.WithResource("ciliumnodeconfigs")
}

// desiredNodeConfig is the per-node switch of the live migration: nodes labelled
// io.cilium.migration/cilium-default=true get Cilium's CNI config and become Cilium-managed.
func desiredNodeConfig(apiVersion, namespace string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       "CiliumNodeConfig",
		"metadata": map[string]any{
			"name":      defaults.CiliumNodeConfigName,
			"namespace": namespace,
			"labels":    map[string]any{"app.kubernetes.io/managed-by": "cnimigrate"},
		},
		"spec": nodeConfigSpec(),
	}}
}

func nodeConfigSpec() map[string]any {
	return map[string]any{
		"nodeSelector": map[string]any{
			"matchLabels": map[string]any{defaults.CiliumMigrationLabel: "true"},
		},
		"defaults": map[string]any{
			"write-cni-conf-when-ready": defaults.CiliumCNIConfInAgent,
			"custom-cni-conf":           "false",
			"cni-chaining-mode":         "none",
			"cni-exclusive":             "true",
		},
	}
}

// crdState reads a CRD: whether it is established and which versions it serves. A missing CRD is
// not an error.
func crdState(ctx context.Context, dyn dynamic.Interface, name string) (established bool, served []string, err error) {
	crd, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("read CRD %s: %w", name, err)
	}
	group, _ := unstructuredString(crd.Object, "spec", "group")
	versions, _ := lookup(crd.Object, []string{"spec", "versions"})
	list, _ := versions.([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		if m["served"] == true {
			served = append(served, group+"/"+fmt.Sprint(m["name"]))
		}
	}
	conds, _ := lookup(crd.Object, []string{"status", "conditions"})
	clist, _ := conds.([]any)
	for _, c := range clist {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			established = true
		}
	}
	return established, served, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// planNodeConfig decides the CiliumNodeConfig operation: migration wants it (creating it waits for
// the CRD at apply time), finalize and absent remove it. apiVersion "" (absent: no chart loaded)
// reads whichever version the CRD serves.
func planNodeConfig(ctx context.Context, dyn dynamic.Interface, want bool, apiVersion, namespace string) (nodeConfigPlan, error) {
	plan := nodeConfigPlan{APIVersion: apiVersion, Namespace: namespace}
	established, served, err := crdState(ctx, dyn, defaults.CiliumNodeConfigCRD)
	if err != nil {
		return plan, err
	}
	readVersion := apiVersion
	if readVersion == "" || !contains(served, readVersion) {
		readVersion = ""
		if len(served) > 0 {
			readVersion = served[0]
		}
	}
	if established && readVersion != "" {
		obj, err := dyn.Resource(nodeConfigGVR(readVersion)).Namespace(namespace).Get(ctx, defaults.CiliumNodeConfigName, metav1.GetOptions{})
		switch {
		case err == nil:
			plan.Existing = obj
		case !apierrors.IsNotFound(err):
			return plan, fmt.Errorf("read CiliumNodeConfig %s/%s: %w", namespace, defaults.CiliumNodeConfigName, err)
		}
	}
	switch {
	case want && plan.Existing == nil:
		plan.Op = opCreate
	case want && !reflect.DeepEqual(plan.Existing.Object["spec"], nodeConfigSpec()):
		plan.Op = opUpdate
	case !want && plan.Existing != nil:
		plan.Op = opDelete
		if plan.APIVersion == "" {
			plan.APIVersion = readVersion
		}
	}
	return plan, nil
}

// waitNodeConfigCRD waits until cilium-operator has registered the CiliumNodeConfig CRD and it
// serves apiVersion. The chart does not ship Cilium's CRDs; the operator registers them at start.
func waitNodeConfigCRD(ctx context.Context, dyn dynamic.Interface, apiVersion string, timeout time.Duration) error {
	what := fmt.Sprintf("the CiliumNodeConfig CRD (%s serving %s)", defaults.CiliumNodeConfigCRD, apiVersion)
	err := wait.For(ctx, what, timeout, 0, func(ctx context.Context) (bool, string, error) {
		established, served, err := crdState(ctx, dyn, defaults.CiliumNodeConfigCRD)
		switch {
		case err != nil:
			return false, "", err
		case served == nil:
			return false, "CRD absent", nil
		case !established:
			return false, "CRD not established yet", nil
		case !contains(served, apiVersion):
			return false, "CRD serves only " + strings.Join(served, ", "), nil
		}
		return true, "", nil
	})
	if err != nil {
		return fmt.Errorf("CiliumNodeConfig CRD not registered by cilium-operator: %w", err)
	}
	return nil
}

// applyNodeConfig carries out the plan; creating waits (bounded) for the CRD first.
func applyNodeConfig(ctx context.Context, dyn dynamic.Interface, plan nodeConfigPlan, timeout time.Duration) error {
	res := dyn.Resource(nodeConfigGVR(plan.APIVersion)).Namespace(plan.Namespace)
	name := defaults.CiliumNodeConfigName
	switch plan.Op {
	case opCreate:
		if err := waitNodeConfigCRD(ctx, dyn, plan.APIVersion, timeout); err != nil {
			return err
		}
		_, err := res.Create(ctx, desiredNodeConfig(plan.APIVersion, plan.Namespace), metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return updateNodeConfig(ctx, res, plan.APIVersion, plan.Namespace)
		}
		if err != nil {
			return fmt.Errorf("create CiliumNodeConfig %s/%s: %w", plan.Namespace, name, err)
		}
	case opUpdate:
		return updateNodeConfig(ctx, res, plan.APIVersion, plan.Namespace)
	case opDelete:
		err := res.Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete CiliumNodeConfig %s/%s: %w", plan.Namespace, name, err)
		}
	}
	return nil
}

func updateNodeConfig(ctx context.Context, res dynamic.ResourceInterface, apiVersion, namespace string) error {
	name := defaults.CiliumNodeConfigName
	cur, err := res.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read CiliumNodeConfig %s/%s: %w", namespace, name, err)
	}
	cur.Object["spec"] = nodeConfigSpec()
	if _, err := res.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update CiliumNodeConfig %s/%s: %w", namespace, name, err)
	}
	return nil
}

// revertNodeConfig undoes an applied plan for rollback_on_failure: a created object is deleted, an
// updated one gets its previous spec back.
func revertNodeConfig(ctx context.Context, dyn dynamic.Interface, plan nodeConfigPlan) error {
	res := dyn.Resource(nodeConfigGVR(plan.APIVersion)).Namespace(plan.Namespace)
	switch plan.Op {
	case opCreate:
		return applyNodeConfig(ctx, dyn, nodeConfigPlan{Op: opDelete, APIVersion: plan.APIVersion, Namespace: plan.Namespace}, 0)
	case opUpdate:
		cur, err := res.Get(ctx, defaults.CiliumNodeConfigName, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read CiliumNodeConfig %s/%s: %w", plan.Namespace, defaults.CiliumNodeConfigName, err)
		}
		cur.Object["spec"] = plan.Existing.Object["spec"]
		if _, err := res.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("restore CiliumNodeConfig %s/%s: %w", plan.Namespace, defaults.CiliumNodeConfigName, err)
		}
	}
	return nil
}
