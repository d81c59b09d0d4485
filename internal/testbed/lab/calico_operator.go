package lab

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Finalizers the tigera-operator sets, which block removal while no operator runs.
const (
	installationFinalizer = "tigera.io/operator-cleanup"
	operatorAPIVersion    = defaults.TigeraOperatorGroup + "/v1"
)

// installCalicoOperator installs the operator flavour: tigera-operator.yaml (its CRDs, including
// Calico's, and the operator Deployment), custom-resources.yaml set up for K3s (Installation and
// APIServer "default"), and — since kwok runs no operator logic — what the operator would create:
// calico-system and calico-apiserver with their workloads, owned by the Installation/APIServer,
// Calico's datastore objects and the operator's status reports.
func (l *Lab) installCalicoOperator(ctx context.Context, dir string) error {
	objs, err := readManifest(dir, "tigera-operator.yaml")
	if err != nil {
		return err
	}
	if err := l.applyWithCRDs(ctx, objs); err != nil {
		return fmt.Errorf("install tigera-operator.yaml: %w", err)
	}
	crs, err := readManifest(dir, "custom-resources.yaml")
	if err != nil {
		return err
	}
	for _, u := range crs {
		if u.GetKind() == "Installation" {
			if err := k3sInstallation(u); err != nil {
				return err
			}
		}
	}
	if err := l.apply.apply(ctx, crs); err != nil {
		return fmt.Errorf("apply custom-resources.yaml: %w", err)
	}
	if err := l.applyOperatorChildren(ctx); err != nil {
		return err
	}
	if err := l.applyCalicoState(ctx); err != nil {
		return err
	}
	return l.applyOperatorStatus(ctx)
}

// k3sInstallation sets the Installation up for K3s (pool 10.42.0.0/16, VXLAN, no BGP) and adds the
// finalizer the operator puts on it.
func k3sInstallation(u *unstructured.Unstructured) error {
	pools := []any{map[string]any{
		"name": calicoPoolName, "blockSize": int64(calicoPoolBlockSize), "cidr": defaults.K3sClusterCIDR,
		"encapsulation": "VXLAN", "natOutgoing": "Enabled", "nodeSelector": "all()",
	}}
	if err := unstructured.SetNestedSlice(u.Object, pools, "spec", "calicoNetwork", "ipPools"); err != nil {
		return fmt.Errorf("installation ipPools: %w", err)
	}
	if err := unstructured.SetNestedField(u.Object, "Disabled", "spec", "calicoNetwork", "bgp"); err != nil {
		return fmt.Errorf("installation bgp: %w", err)
	}
	u.SetFinalizers([]string{installationFinalizer})
	return nil
}

// applyOperatorChildren creates the operator's objects (manifests/operator), controlled by the
// Installation (calico-system and cluster-wide objects) or the APIServer (calico-apiserver).
func (l *Lab) applyOperatorChildren(ctx context.Context) error {
	owners := map[string]metav1.OwnerReference{}
	for _, kind := range []string{"Installation", "APIServer"} {
		ref, err := l.ownerRef(ctx, kind, "default")
		if err != nil {
			return err
		}
		owners[kind] = ref
	}
	objs, err := workloadObjects("operator")
	if err != nil {
		return err
	}
	for _, u := range objs {
		owner := owners["Installation"]
		if u.GetNamespace() == defaults.CalicoAPIServerNS || u.GetName() == defaults.CalicoAPIServerNS {
			owner = owners["APIServer"]
		}
		u.SetOwnerReferences([]metav1.OwnerReference{owner})
	}
	if err := l.apply.apply(ctx, objs); err != nil {
		return fmt.Errorf("create the operator's objects: %w", err)
	}
	return nil
}

// ownerRef returns a controller reference to an operator.tigera.io object.
func (l *Lab) ownerRef(ctx context.Context, kind, name string) (metav1.OwnerReference, error) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(operatorAPIVersion)
	u.SetKind(kind)
	ri, err := l.apply.resource(u)
	if err != nil {
		return metav1.OwnerReference{}, err
	}
	got, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return metav1.OwnerReference{}, fmt.Errorf("get %s %s: %w", kind, name, err)
	}
	yes := true
	return metav1.OwnerReference{APIVersion: operatorAPIVersion, Kind: kind, Name: name, UID: got.GetUID(),
		Controller: &yes, BlockOwnerDeletion: &yes}, nil
}

// applyOperatorStatus writes the status the operator reports: the Installation's computed spec and
// conditions, and TigeraStatus objects saying each component is available.
func (l *Lab) applyOperatorStatus(ctx context.Context) error {
	now := metav1.Now().UTC().Format("2006-01-02T15:04:05Z")
	available := []any{
		map[string]any{"type": "Ready", "status": "True", "reason": "AllObjectsAvailable", "message": "All Objects are available", "lastTransitionTime": now},
	}
	inst := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
		"variant": "Calico", "calicoVersion": "v3.28.5", "mtu": int64(1450), "conditions": available,
	}}}
	inst.SetAPIVersion(operatorAPIVersion)
	inst.SetKind("Installation")
	inst.SetName("default")
	if err := l.apply.applyStatus(ctx, inst); err != nil {
		return err
	}
	for _, name := range []string{"calico", "apiserver", "ippools"} {
		ts := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{}}}
		ts.SetAPIVersion(operatorAPIVersion)
		ts.SetKind("TigeraStatus")
		ts.SetName(name)
		if err := l.apply.applyOne(ctx, ts); err != nil {
			return err
		}
		ts.Object["status"] = map[string]any{"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "AllObjectsAvailable", "message": "All objects available", "lastTransitionTime": now},
			map[string]any{"type": "Progressing", "status": "False", "reason": "AllObjectsAvailable", "message": "All objects available", "lastTransitionTime": now},
			map[string]any{"type": "Degraded", "status": "False", "reason": "AllObjectsAvailable", "message": "All objects available", "lastTransitionTime": now},
		}}
		delete(ts.Object, "spec")
		if err := l.apply.applyStatus(ctx, ts); err != nil {
			return err
		}
	}
	return nil
}
