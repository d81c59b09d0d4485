package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// operatorPoll is how often the tigera-operator stand-in looks at the Installation.
const operatorPoll = time.Second

// startOperatorStandIn plays the tigera-operator's part in Calico's removal while the lab lives
// (kwok's operator pod runs nothing): when the Installation is being deleted, it deletes the
// operator's workloads in calico-system and calico-apiserver and releases the operator's cleanup
// finalizer, as an operator tearing Calico down does; when an Installation exists without
// calico-node (Calico restored from a backup) it re-creates calico-system; once calico-node is gone it also releases its
// cni-protector finalizer from the CNI plugin's account and permissions as they are deleted. Config.OperatorIdle keeps it out (the
// operator is not running: the removal then finds the finalizer stuck).
func (l *Lab) startOperatorStandIn() error {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(operatorAPIVersion)
	u.SetKind("Installation")
	ri, err := l.apply.resource(u)
	if err != nil {
		return fmt.Errorf("tigera-operator stand-in: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.stopStandIns = append(l.stopStandIns, func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(operatorPoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			l.releaseCNIProtector(ctx)
			inst, err := ri.Get(ctx, "default", metav1.GetOptions{})
			if err == nil && inst.GetDeletionTimestamp() == nil {
				l.reconcileCalicoSystem(ctx)
				continue
			}
			if err != nil || !slices.Contains(inst.GetFinalizers(), installationFinalizer) {
				continue // not there, or already released; errors: try again
			}
			l.tearDownCalicoSystem(ctx)
			rest := slices.DeleteFunc(slices.Clone(inst.GetFinalizers()), func(f string) bool { return f == installationFinalizer })
			patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
				"finalizers": rest, "resourceVersion": inst.GetResourceVersion()}})
			if _, err := ri.Patch(ctx, "default", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
				l.standInSay("release the Installation's finalizer: %v (retrying)", err)
			}
		}
	}()
	return nil
}

// reconcileCalicoSystem re-creates the operator's workloads when an Installation exists, the
// operator's Deployment runs and calico-node is missing: what the operator does after Calico was
// restored from a backup (the backup holds the Installation, not what the operator derives from it).
// Anything not ready yet (a namespace still terminating, the APIServer not restored yet) is retried
// on the next tick.
func (l *Lab) reconcileCalicoSystem(ctx context.Context) {
	if _, err := l.kube.AppsV1().DaemonSets(defaults.CalicoSystemNamespace).Get(ctx, defaults.CalicoNodeDaemonSet, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return
	}
	if _, err := l.kube.AppsV1().Deployments(defaults.TigeraOperatorNS).Get(ctx, "tigera-operator", metav1.GetOptions{}); err != nil {
		return // no operator (yet): nothing reconciles
	}
	l.standInSay("the Installation exists without calico-node: creating calico-system's workloads")
	if err := l.applyOperatorChildren(ctx); err != nil {
		l.standInSay("%v (retrying)", err)
		return
	}
	if err := l.applyOperatorStatus(ctx); err != nil {
		l.standInSay("%v (retrying)", err)
	}
}

// tearDownCalicoSystem deletes the workloads the operator runs (what the operator removes when
// its Installation is deleted); their pods follow through the garbage collector.
func (l *Lab) tearDownCalicoSystem(ctx context.Context) {
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	for _, ns := range []string{defaults.CalicoSystemNamespace, defaults.CalicoAPIServerNS} {
		if err := l.kube.AppsV1().DaemonSets(ns).DeleteCollection(ctx, opts, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
			l.standInSay("delete DaemonSets in %s: %v", ns, err)
		}
		if err := l.kube.AppsV1().Deployments(ns).DeleteCollection(ctx, opts, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
			l.standInSay("delete Deployments in %s: %v", ns, err)
		}
	}
}

// cniProtected are the objects the operator guards with its tigera.io/cni-protector finalizer
// (manifests/operator/calico-system.yaml): the CNI plugin's identity and permissions, kept until
// calico-node is gone so that pods can still be torn down.
var cniProtected = []struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
}{
	{schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, defaults.CalicoSystemNamespace, defaults.CalicoNodeDaemonSet},
	{schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, defaults.CalicoSystemNamespace, "calico-cni-plugin"},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, "", defaults.CalicoNodeDaemonSet},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, "", "calico-cni-plugin"},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}, "", defaults.CalicoNodeDaemonSet},
	{schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}, "", "calico-cni-plugin"},
}

const cniProtectorFinalizer = "tigera.io/cni-protector"

// releaseCNIProtector removes the operator's cni-protector finalizer from the objects being
// deleted once no calico-node DaemonSet is left, as the operator does.
func (l *Lab) releaseCNIProtector(ctx context.Context) {
	if _, err := l.kube.AppsV1().DaemonSets(defaults.CalicoSystemNamespace).Get(ctx, defaults.CalicoNodeDaemonSet, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return // calico-node still there (or the API did not answer): keep protecting
	}
	for _, o := range cniProtected {
		ri := l.apply.dyn.Resource(o.gvr).Namespace(o.namespace)
		obj, err := ri.Get(ctx, o.name, metav1.GetOptions{})
		if err != nil || obj.GetDeletionTimestamp() == nil || !slices.Contains(obj.GetFinalizers(), cniProtectorFinalizer) {
			continue
		}
		rest := slices.DeleteFunc(slices.Clone(obj.GetFinalizers()), func(f string) bool { return f == cniProtectorFinalizer })
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": rest, "resourceVersion": obj.GetResourceVersion()}})
		if _, err := ri.Patch(ctx, o.name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			l.standInSay("release %s %s: %v (retrying)", o.gvr.Resource, o.name, err)
		}
	}
}

// standInSay reports what the stand-in does or fails at, once per distinct message (it retries
// every second).
func (l *Lab) standInSay(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if msg == l.standInLast {
		return
	}
	l.standInLast = msg
	l.progress("tigera-operator stand-in: %s", msg)
}

// stopStandIn stops what startOperatorStandIn started (Down calls it).
func (l *Lab) stopStandIn() {
	for _, stop := range l.stopStandIns {
		stop()
	}
	l.stopStandIns = nil
}
