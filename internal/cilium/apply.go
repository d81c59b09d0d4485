package cilium

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// applier carries out a plan and remembers what it did, for rollback_on_failure and the result.
type applier struct {
	e           *env
	p           Parameters
	pl          *Plan
	rel         *release.Release // the release the Helm action produced
	helmStarted bool
	nodeConfig  bool // the CiliumNodeConfig create/update was applied
}

// applyPlan applies the plan, rolls back on failure when asked, and completes the outcome.
func applyPlan(ctx context.Context, e *env, p Parameters, pl *Plan, out *Outcome) (*Outcome, error) {
	a := &applier{e: e, p: p, pl: pl}
	err := a.run(ctx)
	if err != nil && p.RollbackOnFailure && a.helmStarted && pl.Action != ActionUninstall {
		note, rbErr := a.rollback(ctx)
		if rbErr != nil {
			err = fmt.Errorf("%w; rollback_on_failure: rollback failed too: %v", err, rbErr)
		} else {
			out.Result.RolledBack = true
			err = fmt.Errorf("%w; rollback_on_failure: %s", err, note)
		}
	}
	if ferr := a.finish(ctx, out); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		out.Msg = err.Error()
		return out, err
	}
	out.Msg = "applied: " + strings.Join(pl.Steps(p), "; ")
	return out, nil
}

func (a *applier) run(ctx context.Context) error {
	pl, p := a.pl, a.p
	if pl.Recover {
		if err := markFailed(a.e.helm, pl.History.Last); err != nil {
			return err
		}
	}
	if pl.Fix != nil {
		if err := pl.Fix.apply(ctx); err != nil {
			return err
		}
		if pl.Fix.settle != nil {
			if err := pl.Fix.settle(ctx, p.Timeout); err != nil {
				return err
			}
		}
	}
	if err := a.waitNamespacesGone(ctx); err != nil {
		return err
	}
	if err := a.helm(ctx); err != nil {
		return err
	}
	if op := pl.NodeConfig.Op; op == opCreate || op == opUpdate {
		if err := applyNodeConfig(ctx, a.e.dyn, pl.NodeConfig, p.Timeout); err != nil {
			return err
		}
		a.nodeConfig = true
	}
	if p.Wait && p.State == StatePresent {
		check := &readinessCheck{kube: a.e.kube, dyn: a.e.dyn, namespace: p.Namespace,
			crds: a.requiredCRDs(), operator: operatorEnabled(pl.Values)}
		if err := waitReady(ctx, check, p.Timeout); err != nil {
			return err
		}
	}
	if p.Wait && p.State == StateAbsent && pl.Action == ActionUninstall {
		if err := waitGone(ctx, a.e, p.Namespace, p.Timeout); err != nil {
			return err
		}
	}
	if pl.NodeConfig.Op == opDelete {
		return applyNodeConfig(ctx, a.e.dyn, pl.NodeConfig, 0)
	}
	return nil
}

func (a *applier) requiredCRDs() []string {
	crds := append([]string(nil), requiredCRDs...)
	if a.p.Mode == ModeMigration {
		crds = append(crds, defaults.CiliumNodeConfigCRD)
	}
	return crds
}

func operatorEnabled(values map[string]any) bool {
	v, found := lookup(values, []string{"operator", "enabled"})
	return !found || v != false
}

// helm runs the Helm action. Server-side apply stays off (as cilium-cli does) so that releases made
// by Helm 3 or cilium-cli are patched as they were created; Helm waits for hooks only.
func (a *applier) helm(ctx context.Context) error {
	p, pl, cfg := a.p, a.pl, a.e.helm
	var rel any
	var err error
	switch pl.Action {
	case ActionInstall:
		a.helmStarted = true
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace = p.ReleaseName, p.Namespace
		in.ServerSideApply, in.WaitStrategy, in.Timeout = false, kube.HookOnlyStrategy, p.Timeout
		in.Replace = pl.History.Last != nil // an uninstalled record kept in history
		in.Description = "cilium_install mode " + string(p.Mode)
		in.Labels = map[string]string{defaults.HelmDesiredLabel: pl.want.label(1)}
		rel, err = in.RunWithContext(ctx, pl.Chart, pl.Values)
	case ActionUpgrade:
		a.helmStarted = true
		up := action.NewUpgrade(cfg)
		up.Namespace = p.Namespace
		up.ServerSideApply, up.WaitStrategy, up.Timeout = "false", kube.HookOnlyStrategy, p.Timeout
		up.ResetValues, up.MaxHistory = true, defaults.HelmMaxHistory
		up.Description = "cilium_install mode " + string(p.Mode)
		up.Labels = map[string]string{defaults.HelmDesiredLabel: pl.want.label(pl.History.Last.Version + 1)}
		rel, err = up.RunWithContext(ctx, p.ReleaseName, pl.Chart, pl.Values)
	case ActionUninstall:
		a.helmStarted = true
		err = uninstall(cfg, p)
	default:
		return nil
	}
	if r, ok := rel.(*release.Release); ok {
		a.rel = r
	}
	if err != nil {
		return fmt.Errorf("%s release %s: %w", pl.Action, p.ReleaseName, err)
	}
	return nil
}

// waitNamespacesGone waits, before an install or upgrade, until the namespaces a previous release
// made (cilium-secrets) have finished terminating: right after an uninstall the API server refuses
// anything created in them, and the release would fail half-applied.
func (a *applier) waitNamespacesGone(ctx context.Context) error {
	if a.pl.Action != ActionInstall && a.pl.Action != ActionUpgrade {
		return nil
	}
	what := fmt.Sprintf("namespaces of an earlier release %s to finish terminating", a.p.ReleaseName)
	return wait.For(ctx, what, a.p.Timeout, 0, func(ctx context.Context) (bool, string, error) {
		list, err := a.e.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", fmt.Errorf("list namespaces: %w", err)
		}
		var terminating []string
		for _, ns := range list.Items {
			ann := ns.Annotations
			if ns.DeletionTimestamp != nil && ann["meta.helm.sh/release-name"] == a.p.ReleaseName &&
				ann["meta.helm.sh/release-namespace"] == a.p.Namespace {
				terminating = append(terminating, ns.Name)
			}
		}
		return len(terminating) == 0, "still terminating: " + strings.Join(terminating, ", "), nil
	})
}

func uninstall(cfg *action.Configuration, p Parameters) error {
	un := action.NewUninstall(cfg)
	un.WaitStrategy, un.Timeout = kube.HookOnlyStrategy, p.Timeout
	un.IgnoreNotFound = true
	un.DeletionPropagation = "background"
	un.Description = "cilium_install state absent"
	_, err := un.Run(p.ReleaseName)
	return err
}

// rollback restores the revision that was deployed before the failed upgrade, or uninstalls a
// failed install (or an upgrade of a release that never deployed), and undoes the node config.
func (a *applier) rollback(ctx context.Context) (string, error) {
	p, pl := a.p, a.pl
	var note string
	var errs []error
	if prev := pl.History.Deployed; pl.Action == ActionUpgrade && prev != nil {
		rb := action.NewRollback(a.e.helm)
		rb.Version = prev.Version
		rb.ServerSideApply, rb.WaitStrategy, rb.Timeout = "false", kube.HookOnlyStrategy, p.Timeout
		rb.MaxHistory = defaults.HelmMaxHistory
		if err := rb.Run(p.ReleaseName); err != nil {
			errs = append(errs, fmt.Errorf("roll back release %s to revision %d: %w", p.ReleaseName, prev.Version, err))
		}
		note = fmt.Sprintf("rolled back release %s to revision %d", p.ReleaseName, prev.Version)
	} else {
		if err := uninstall(a.e.helm, p); err != nil {
			errs = append(errs, fmt.Errorf("uninstall failed release %s: %w", p.ReleaseName, err))
		}
		note = fmt.Sprintf("uninstalled the failed release %s", p.ReleaseName)
	}
	if a.nodeConfig {
		if err := revertNodeConfig(ctx, a.e.dyn, pl.NodeConfig); err != nil {
			errs = append(errs, err)
		} else {
			note += " and reverted the CiliumNodeConfig"
		}
	}
	return note, errors.Join(errs...)
}

// finish reports the release as it is now, its readiness and, when asked, the diff.
func (a *applier) finish(ctx context.Context, out *Outcome) error {
	hist, err := readHistory(ctx, a.e, a.p.Namespace, a.p.ReleaseName, nil)
	if err != nil {
		return err
	}
	fillRelease(&out.Result, hist.Last)
	if !hist.exists() {
		fillRelease(&out.Result, nil)
	}
	if a.p.State == StatePresent && hist.exists() {
		r, _, err := agentReadiness(ctx, a.e.kube, a.p.Namespace)
		if err != nil {
			return err
		}
		out.Result.Readiness = &r
	}
	if !a.p.Diff {
		return nil
	}
	manifest := ""
	if a.rel != nil {
		manifest = a.rel.Manifest
	}
	return addDiffs(a.p, a.pl, out, manifest)
}

// waitGone waits until the uninstalled agents and operator are gone.
func waitGone(ctx context.Context, e *env, ns string, timeout time.Duration) error {
	what := "Cilium's agents and operator to be removed"
	return wait.For(ctx, what, timeout, 0, func(ctx context.Context) (bool, string, error) {
		var left []string
		if _, err := e.kube.AppsV1().DaemonSets(ns).Get(ctx, defaults.CiliumAgentDaemonSet, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, "DaemonSet "+defaults.CiliumAgentDaemonSet)
		}
		if _, err := e.kube.AppsV1().Deployments(ns).Get(ctx, defaults.CiliumOperatorName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			left = append(left, "Deployment "+defaults.CiliumOperatorName)
		}
		pods, err := e.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: defaults.CiliumAgentSelector})
		if err != nil {
			return false, "", err
		}
		if n := len(pods.Items); n > 0 {
			left = append(left, fmt.Sprintf("%d agent pod(s)", n))
		}
		return len(left) == 0, "still present: " + strings.Join(left, ", "), nil
	})
}
