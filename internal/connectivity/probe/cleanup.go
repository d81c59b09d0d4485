package probe

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// deleteNamespace removes the test namespace (and with it everything the probes created) and
// waits, bounded, until it is gone. It runs on a context of its own so that it also runs when the
// module's context was cancelled or timed out.
func deleteNamespace(ctx context.Context, cfg Config, ns string) error {
	timeout := cfg.CleanupTimeout
	if timeout <= 0 {
		timeout = defaults.ConnectivityCleanupTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout+10*time.Second)
	defer cancel()
	bg := metav1.DeletePropagationBackground
	err := cfg.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: &bg})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete test namespace %s: %w", ns, err)
	}
	return wait.For(ctx, "test namespace "+ns+" to be deleted", timeout, 0, func(ctx context.Context) (bool, string, error) {
		got, err := cfg.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		if err != nil {
			return false, "", err
		}
		obs := "phase " + string(got.Status.Phase)
		for _, c := range got.Status.Conditions {
			if c.Status == "True" && c.Message != "" {
				obs += "; " + c.Message
			}
		}
		pods, err := cfg.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err == nil && len(pods.Items) > 0 {
			obs += fmt.Sprintf("; %d pods left", len(pods.Items))
		}
		return false, obs, nil
	})
}
