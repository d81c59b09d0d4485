package nodemigrate

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// failEvictions makes the fake API server answer the first n evictions with errs (in turn, the
// last one repeated), then as usual. It returns the count of eviction calls.
func failEvictions(cs *fake.Clientset, n int, errs ...error) *atomic.Int32 {
	calls := &atomic.Int32{}
	cs.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		i := int(calls.Add(1)) - 1
		if i >= n {
			return false, nil, nil
		}
		return true, nil, errs[min(i, len(errs)-1)]
	})
	return calls
}

var pods = schema.GroupResource{Resource: "pods"}

func TestDrainRetriesTransientEvictionErrors(t *testing.T) {
	t.Parallel()
	cs := cluster(t, node("agent-1"), pod("jupyter", "web", "agent-1", "ReplicaSet"))
	calls := failEvictions(cs, 3, apierrors.NewServiceUnavailable("apiserver is shutting down"),
		apierrors.NewInternalError(errors.New("etcdserver: leader changed")),
		apierrors.NewServerTimeout(pods, "create", 1))
	p := Parameters{Node: "agent-1", State: Drained, Timeout: 30 * time.Second, RetryInitial: 10 * time.Millisecond}
	res, err := Run(context.Background(), cs, p)
	if err != nil {
		t.Fatalf("drain failed on transient API errors: %v", err)
	}
	if strings.Join(res.Evicted, ",") != "jupyter/web" || podExists(t, cs, "jupyter", "web") {
		t.Fatalf("evicted %v, want jupyter/web gone", res.Evicted)
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("%d eviction calls, want 4 (three transient failures, then the eviction)", n)
	}
}

func TestDrainGivesUpOnAPersistentErrorAtItsTimeoutNamingThePod(t *testing.T) {
	t.Parallel()
	cs := cluster(t, node("agent-1"), pod("jupyter", "web", "agent-1", "ReplicaSet"))
	failEvictions(cs, 1<<20, apierrors.NewInternalError(errors.New("etcdserver: leader changed")))
	p := Parameters{Node: "agent-1", State: Drained, Timeout: 2 * time.Second, RetryInitial: 10 * time.Millisecond}
	_, err := Run(context.Background(), cs, p)
	if err == nil {
		t.Fatal("drain succeeded although every eviction failed")
	}
	for _, want := range []string{"timed out after 2s", "jupyter/web", "etcdserver: leader changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestDrainStopsAtOnceOnAnErrorRetryingCannotFix(t *testing.T) {
	t.Parallel()
	cs := cluster(t, node("agent-1"), pod("jupyter", "web", "agent-1", "ReplicaSet"))
	calls := failEvictions(cs, 1<<20, apierrors.NewForbidden(pods, "web", errors.New("RBAC: no evictions")))
	_, err := Run(context.Background(), cs, Parameters{Node: "agent-1", State: Drained, Timeout: 30 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "evict pod jupyter/web") || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("err = %v, want the forbidden eviction named", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d eviction calls, want 1 (a forbidden eviction is not retried)", n)
	}
}

// A PodDisruptionBudget that keeps refusing is asked again less and less often (1 s, 2 s, 4 s …
// apart), not at every poll, and the failure at the timeout names the pod and the budget.
func TestDrainBacksOffWhileAPDBRefuses(t *testing.T) {
	t.Parallel()
	cs := cluster(t, node("agent-1"), pod("mlflow-system", "mlflow", "agent-1", "StatefulSet"),
		pdb("mlflow-system", "mlflow-pdb", "mlflow"))
	calls := failEvictions(cs, 0)
	_, err := Run(context.Background(), cs, Parameters{Node: "agent-1", State: Drained, Timeout: 4 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "mlflow-system/mlflow blocked by PodDisruptionBudget mlflow-system/mlflow-pdb") {
		t.Fatalf("err = %v, want a timeout naming the pod and its PDB", err)
	}
	// Attempts at 0 s, 1 s and 3 s; polling every 500 ms would make eight or more.
	if n := calls.Load(); n > 4 {
		t.Errorf("%d evictions in 4 s: the refused eviction is retried at every poll, without backoff", n)
	}
}
