package cilium

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

var (
	ipPoolGVR       = schema.GroupVersionResource{Group: defaults.CalicoCRDGroup, Version: "v1", Resource: "ippools"}
	felixConfigGVR  = schema.GroupVersionResource{Group: defaults.CalicoCRDGroup, Version: "v1", Resource: "felixconfigurations"}
	installationGVR = schema.GroupVersionResource{Group: defaults.TigeraOperatorGroup, Version: "v1", Resource: "installations"}
)

// calicoNodeContainer is the calico-node container of the manifest install's DaemonSet.
const calicoNodeContainer = "calico-node"

// autodetectFix is a change that stops Calico from picking cilium_host as the node address.
type autodetectFix struct {
	Describe string
	apply    func(ctx context.Context) error
	// settle waits until calico-node runs with the change on every node, so that Calico's restarts
	// are over before Cilium's agents start beside it; nil where the tigera operator rolls
	// calico-node out on its own schedule.
	settle func(ctx context.Context, timeout time.Duration) error
}

// calicoPool is one Calico IPPool.
type calicoPool struct {
	Name string
	CIDR string
}

// calicoPools lists Calico's IPPools; no Calico CRD means no pools.
func calicoPools(ctx context.Context, dyn dynamic.Interface) ([]calicoPool, error) {
	list, err := dyn.Resource(ipPoolGVR).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list Calico IPPools: %w", err)
	}
	var out []calicoPool
	for _, item := range list.Items {
		cidr, _ := unstructuredString(item.Object, "spec", "cidr")
		out = append(out, calicoPool{Name: item.GetName(), CIDR: cidr})
	}
	return out, nil
}

// calicoVXLANPort is Felix's VXLAN port (FelixConfiguration default, spec.vxlanPort), 4789 when unset.
func calicoVXLANPort(ctx context.Context, dyn dynamic.Interface) (int, error) {
	fc, err := dyn.Resource(felixConfigGVR).Get(ctx, "default", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return defaults.CalicoVXLANPort, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read FelixConfiguration default: %w", err)
	}
	spec, _ := fc.Object["spec"].(map[string]any)
	switch v := spec["vxlanPort"].(type) {
	case int64:
		return int(v), nil
	case float64:
		return int(v), nil
	}
	return defaults.CalicoVXLANPort, nil
}

// checkAutodetect finds out whether Calico could pick cilium_host as its node address once Cilium
// runs beside it. It returns a warning and the fix (applied only with patch_calico_autodetect).
func checkAutodetect(ctx context.Context, kube kubernetes.Interface, dyn dynamic.Interface) (string, *autodetectFix, error) {
	inst, err := dyn.Resource(installationGVR).Get(ctx, "default", metav1.GetOptions{})
	switch {
	case err == nil:
		return operatorAutodetect(dyn, inst.Object)
	case !apierrors.IsNotFound(err):
		return "", nil, fmt.Errorf("read Calico Installation default: %w", err)
	}
	ds, err := kube.AppsV1().DaemonSets(defaults.CalicoNamespace).Get(ctx, defaults.CalicoNodeDaemonSet, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil, nil // no Calico of either flavour
	}
	if err != nil {
		return "", nil, fmt.Errorf("read DaemonSet %s/%s: %w", defaults.CalicoNamespace, defaults.CalicoNodeDaemonSet, err)
	}
	for _, c := range ds.Spec.Template.Spec.Containers {
		if c.Name != calicoNodeContainer {
			continue
		}
		for _, e := range c.Env {
			if e.Name == defaults.CalicoAutodetectEnv && e.Value == defaults.CalicoAutodetectK8s && e.ValueFrom == nil {
				return "", nil, nil
			}
		}
	}
	warn := fmt.Sprintf("Calico (calico.yaml) may pick cilium_host as node address: DaemonSet %s/%s does not set %s=%s; "+
		"set patch_calico_autodetect: true to set it (calico-node restarts)", defaults.CalicoNamespace,
		defaults.CalicoNodeDaemonSet, defaults.CalicoAutodetectEnv, defaults.CalicoAutodetectK8s)
	fix := &autodetectFix{
		Describe: fmt.Sprintf("set %s=%s on DaemonSet %s/%s and wait until it has rolled out on every node",
			defaults.CalicoAutodetectEnv, defaults.CalicoAutodetectK8s, defaults.CalicoNamespace, defaults.CalicoNodeDaemonSet),
		apply: func(ctx context.Context) error { return patchCalicoNodeEnv(ctx, kube) },
		settle: func(ctx context.Context, timeout time.Duration) error {
			return waitCalicoNodeRolledOut(ctx, kube, defaults.CalicoNamespace, timeout)
		},
	}
	return warn, fix, nil
}

func operatorAutodetect(dyn dynamic.Interface, inst map[string]any) (string, *autodetectFix, error) {
	want := map[string]any{"kubernetes": "NodeInternalIP"}
	got, found := unstructuredMap(inst, "spec", "calicoNetwork", "nodeAddressAutodetectionV4")
	if found && reflect.DeepEqual(got, want) {
		return "", nil, nil
	}
	warn := "Calico (tigera-operator) may pick cilium_host as node address: Installation default has " +
		"spec.calicoNetwork.nodeAddressAutodetectionV4 other than {kubernetes: NodeInternalIP}; set " +
		"patch_calico_autodetect: true to set it (calico-node restarts)"
	fix := &autodetectFix{
		Describe: "set Installation default spec.calicoNetwork.nodeAddressAutodetectionV4 to {kubernetes: NodeInternalIP}",
		apply: func(ctx context.Context) error {
			// One merge patch sets kubernetes and removes the other, mutually exclusive, methods.
			patch := `{"spec":{"calicoNetwork":{"nodeAddressAutodetectionV4":{"kubernetes":"NodeInternalIP",` +
				`"firstFound":null,"interface":null,"skipInterface":null,"canReach":null,"cidrs":null}}}}`
			_, err := dyn.Resource(installationGVR).Patch(ctx, "default", types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			if err != nil {
				return fmt.Errorf("patch Installation default: %w", err)
			}
			return nil
		},
	}
	return warn, fix, nil
}

// patchCalicoNodeEnv sets the env var with a strategic merge patch (env is merged by name).
func patchCalicoNodeEnv(ctx context.Context, kube kubernetes.Interface) error {
	patch := map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{
			"name": calicoNodeContainer,
			"env":  []any{map[string]any{"name": defaults.CalicoAutodetectEnv, "value": defaults.CalicoAutodetectK8s}},
		}},
	}}}}
	b, _ := json.Marshal(patch)
	_, err := kube.AppsV1().DaemonSets(defaults.CalicoNamespace).Patch(ctx, defaults.CalicoNodeDaemonSet,
		types.StrategicMergePatchType, b, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("patch DaemonSet %s/%s: %w", defaults.CalicoNamespace, defaults.CalicoNodeDaemonSet, err)
	}
	return nil
}

// waitCalicoNodeRolledOut waits until DaemonSet calico-node has rolled its current template out:
// generation observed, and every scheduled pod updated, ready and available.
func waitCalicoNodeRolledOut(ctx context.Context, kube kubernetes.Interface, ns string, timeout time.Duration) error {
	what := fmt.Sprintf("DaemonSet %s/%s to roll out %s on every node (before Cilium's agents start beside it)",
		ns, defaults.CalicoNodeDaemonSet, defaults.CalicoAutodetectEnv)
	return wait.For(ctx, what, timeout, 0, func(ctx context.Context) (bool, string, error) {
		ds, err := kube.AppsV1().DaemonSets(ns).Get(ctx, defaults.CalicoNodeDaemonSet, metav1.GetOptions{})
		if err != nil {
			return false, "", fmt.Errorf("read DaemonSet %s/%s: %w", ns, defaults.CalicoNodeDaemonSet, err)
		}
		st := ds.Status
		msg := fmt.Sprintf("%d/%d updated, %d/%d ready", st.UpdatedNumberScheduled, st.DesiredNumberScheduled,
			st.NumberReady, st.DesiredNumberScheduled)
		if st.ObservedGeneration < ds.Generation {
			msg += ", new generation not yet observed"
		}
		return rolledOut(ds), msg, nil
	})
}

func unstructuredString(obj map[string]any, path ...string) (string, bool) {
	v, found := lookup(obj, path)
	s, ok := v.(string)
	return s, found && ok
}

func unstructuredMap(obj map[string]any, path ...string) (map[string]any, bool) {
	v, found := lookup(obj, path)
	m, ok := v.(map[string]any)
	return m, found && ok
}
