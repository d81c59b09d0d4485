package probe

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// runPolicy applies a NetworkPolicy that denies all ingress to the echo servers, then runs each
// deny probe. A CNI needs a moment to program a new policy: each probe first polls (one request at
// a time) until traffic is blocked or the grace period since the policy was applied has passed,
// then takes its samples. A CNI that never enforces it fails with what got through.
func runPolicy(ctx context.Context, cfg Config, out *Outcome, kit toolkit, specs []spec) []result.Entry {
	if len(specs) == 0 {
		return nil
	}
	ns := out.Namespace
	if _, err := cfg.Kube.NetworkingV1().NetworkPolicies(ns).Create(ctx, denyPolicy(), metav1.CreateOptions{}); err != nil {
		entries := skipAll(specs, "the deny policy could not be applied")
		entries[0].Status, entries[0].Error = result.Failed, fmt.Sprintf("create NetworkPolicy %s/%s: %v", ns, policyName, err)
		return entries
	}
	out.Objects = append(out.Objects, "NetworkPolicy/"+ns+"/"+policyName)
	grace := cfg.PolicyGrace
	if grace <= 0 {
		grace = defaults.ConnectivityPolicyGrace
	}
	deadline := time.Now().Add(grace)
	var entries []result.Entry
	for _, s := range specs {
		if s.skip == "" && kit.missingTool("curl") == "" {
			awaitBlocked(ctx, cfg, ns, s, deadline)
		}
		entries = append(entries, runProbe(ctx, cfg, ns, kit, s))
	}
	return entries
}

// awaitBlocked polls until one request is blocked or the deadline passes. Not being blocked is
// not an error here: the probe's samples are the verdict.
func awaitBlocked(ctx context.Context, cfg Config, ns string, s spec, deadline time.Time) {
	left := time.Until(deadline)
	if left <= 0 {
		return
	}
	_ = wait.For(ctx, "deny policy to be enforced", left, time.Second, func(ctx context.Context) (bool, string, error) {
		samples, _, err := measure(ctx, cfg, ns, s, 1)
		if err != nil {
			return false, "", err
		}
		return len(samples) == 1 && s.expect.Accepts(samples[0].Outcome), "", nil
	})
}
