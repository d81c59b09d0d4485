package cilium

import (
	"context"
	"fmt"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"
)

// fillRelease copies a release's identity into the result; nil leaves the zero values.
func fillRelease(r *Result, rel *release.Release) {
	if rel == nil {
		r.Revision, r.Status, r.ChartVersion, r.AppVersion = 0, "", "", ""
		return
	}
	r.Revision, r.Status = rel.Version, string(status(rel))
	if rel.Chart != nil && rel.Chart.Metadata != nil {
		r.ChartVersion, r.AppVersion = rel.Chart.Metadata.Version, rel.Chart.Metadata.AppVersion
	}
}

// describe completes the outcome of a run that changes nothing (check mode, or nothing to do):
// message, readiness and, when asked, the diff (rendering the chart client-side).
func describe(ctx context.Context, e *env, p Parameters, pl *Plan, out *Outcome) error {
	steps := pl.Steps(p)
	switch {
	case !pl.Changed() && p.State == StateAbsent:
		out.Msg = fmt.Sprintf("release %s is absent from %s", p.ReleaseName, p.Namespace)
	case !pl.Changed():
		out.Msg = fmt.Sprintf("release %s is up to date (revision %d, chart %s)", p.ReleaseName, out.Result.Revision, out.Result.ChartVersion)
	default:
		out.Msg = "check mode: would " + strings.Join(steps, "; then ")
	}
	if p.State == StatePresent && pl.History.exists() {
		r, _, err := agentReadiness(ctx, e.kube, p.Namespace)
		if err != nil {
			return err
		}
		out.Result.Readiness = &r
	}
	if !p.Diff {
		return nil
	}
	desired := ""
	if pl.Action == ActionInstall || pl.Action == ActionUpgrade {
		desired = pl.manifest // rendered by Plan.render
	} else if pl.Action == ActionNone && pl.History.Last != nil {
		desired = pl.History.Last.Manifest
	}
	return addDiffs(p, pl, out, desired)
}

// addDiffs renders the values diff, the manifest summary and the CiliumNodeConfig change.
// desiredManifest is the manifest after the change ("" when the release goes away).
func addDiffs(p Parameters, pl *Plan, out *Outcome, desiredManifest string) error {
	cur := pl.History.Last
	var beforeVals map[string]any
	beforeManifest, beforeHeader := "", "release "+p.ReleaseName+" (not installed)"
	if cur != nil && pl.History.exists() {
		beforeVals, beforeManifest = cur.Config, cur.Manifest
		beforeHeader = fmt.Sprintf("release %s revision %d", p.ReleaseName, cur.Version)
	}
	afterHeader := fmt.Sprintf("release %s (desired)", p.ReleaseName)
	if p.State == StateAbsent {
		afterHeader = fmt.Sprintf("release %s (uninstalled)", p.ReleaseName)
	}
	norm, err := normalizeValues(beforeVals)
	if err != nil {
		return err
	}
	before := ""
	if beforeVals != nil {
		before = toYAML(maskSecrets(norm))
	}
	after := ""
	if pl.Values != nil {
		after = toYAML(maskSecrets(pl.Values))
	}
	out.Diffs = append(out.Diffs, Diff{Before: before, After: after,
		BeforeHeader: beforeHeader + " values", AfterHeader: afterHeader + " values"})
	sum, err := summarizeManifests(beforeManifest, desiredManifest, p.Namespace)
	if err != nil {
		return err
	}
	out.Result.ManifestSummary = sum
	b, a := sum.diffText(beforeManifest, desiredManifest, p.Namespace)
	out.Diffs = append(out.Diffs, Diff{Before: b, After: a,
		BeforeHeader: beforeHeader + " objects", AfterHeader: afterHeader + " objects"})
	if nc := pl.NodeConfig; nc.Op != opNone {
		d := Diff{BeforeHeader: "CiliumNodeConfig " + nc.Namespace + "/cilium-default", AfterHeader: nc.describe()}
		if nc.Existing != nil {
			d.Before = toYAML(nc.Existing.Object["spec"])
		}
		if nc.Op != opDelete {
			d.After = toYAML(nodeConfigSpec())
		}
		out.Diffs = append(out.Diffs, d)
	}
	return nil
}
