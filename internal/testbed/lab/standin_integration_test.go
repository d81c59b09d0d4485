package lab_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab/labtest"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// The operator flavour's stand-in does what the tigera-operator does around a removal and a
// rollback: calico-node missing under an Installation is re-created; the CNI plugin's RBAC stays
// protected while calico-node runs; deleting the Installation tears calico-system down and lets
// the Installation and the protected objects go.
func TestIntegrationTigeraOperatorStandIn(t *testing.T) {
	cfg := lab.Defaults()
	cfg.Calico, cfg.Hosts, cfg.Workloads = lab.CalicoOperator, false, false
	l := labtest.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(l.RESTConfig())
	dyn := dynamic.NewForConfigOrDie(l.RESTConfig())
	installations := dyn.Resource(schema.GroupVersionResource{Group: "operator.tigera.io", Version: "v1", Resource: "installations"})
	eventually := func(what string, cond func(context.Context) (bool, string, error)) {
		t.Helper()
		if err := wait.For(ctx, what, time.Minute, 0, cond); err != nil {
			t.Fatal(err)
		}
	}

	if err := kube.AppsV1().DaemonSets("calico-system").Delete(ctx, "calico-node", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("calico-node re-created under the Installation", func(ctx context.Context) (bool, string, error) {
		ds, err := kube.AppsV1().DaemonSets("calico-system").Get(ctx, "calico-node", metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		return ds.DeletionTimestamp == nil, "being deleted", nil
	})

	if err := kube.RbacV1().ClusterRoles().Delete(ctx, "calico-node", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // several stand-in ticks
	if cr, err := kube.RbacV1().ClusterRoles().Get(ctx, "calico-node", metav1.GetOptions{}); err != nil || cr.DeletionTimestamp == nil {
		t.Fatalf("ClusterRole calico-node must stay (terminating) while calico-node runs: %v", err)
	}

	if err := installations.Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("the Installation, calico-system's workloads and the protected ClusterRole gone", func(ctx context.Context) (bool, string, error) {
		var left []string
		if _, err := installations.Get(ctx, "default", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, fmt.Sprintf("Installation (%v)", err))
		}
		ds, err := kube.AppsV1().DaemonSets("calico-system").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		deps, err := kube.AppsV1().Deployments("calico-system").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", err
		}
		if n := len(ds.Items) + len(deps.Items); n > 0 {
			left = append(left, fmt.Sprintf("%d workloads in calico-system", n))
		}
		if _, err := kube.RbacV1().ClusterRoles().Get(ctx, "calico-node", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, "ClusterRole calico-node")
		}
		return len(left) == 0, fmt.Sprint("left: ", left), nil
	})
}
