package cilium

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// history is what Helm's storage holds about one release name.
type history struct {
	Last     *release.Release // newest revision, any status; nil when there is no release
	Deployed *release.Release // newest deployed revision; nil when none
	// fromLabels: Last was recognized as the desired release from its labels and not decoded; it
	// holds the desired chart and values but no manifest.
	fromLabels bool
}

// exists: a release that Helm would upgrade (not merely an uninstalled record kept in history).
func (h history) exists() bool {
	return h.Last != nil && status(h.Last) != rcommon.StatusUninstalled
}

func status(r *release.Release) rcommon.Status {
	if r == nil || r.Info == nil {
		return rcommon.StatusUnknown
	}
	return r.Info.Status
}

// pending reports a release left in pending-* or uninstalling: an operation is running, or was
// interrupted (the API server went away mid-upgrade, the module was killed).
func (h history) pending() bool {
	s := status(h.Last)
	return s.IsPending() || s == rcommon.StatusUninstalling
}

// interrupted decides whether a pending release is stale: untouched for longer than timeout, no
// Helm operation of ours can still be running on it. A fresh one may be another operator's.
func interrupted(r *release.Release, timeout time.Duration, now time.Time) error {
	if r == nil || r.Info == nil {
		return nil
	}
	since := r.Info.LastDeployed
	if since.IsZero() || now.Sub(since) > timeout {
		return nil
	}
	return fmt.Errorf("release %s revision %d is %s since %s, less than timeout (%s) ago: another Helm "+
		"operation may be running; retry later (an interrupted operation is recovered once it is older than timeout)",
		r.Name, r.Version, r.Info.Status, since.UTC().Format(time.RFC3339), timeout)
}

// markFailed records an interrupted revision as failed, which lets Helm upgrade or roll back again.
func markFailed(cfg *action.Configuration, r *release.Release) error {
	r.Info.Status = rcommon.StatusFailed
	r.Info.Description = "interrupted: found pending by cilium_install and marked failed"
	if err := cfg.Releases.Update(r); err != nil {
		return fmt.Errorf("mark interrupted release %s revision %d failed: %w", r.Name, r.Version, err)
	}
	return nil
}

// upToDate compares a deployed release with the desired chart and values. It returns the reasons
// for an upgrade; none means the release is up to date.
func upToDate(cur *release.Release, digest, version string, values map[string]any) []string {
	var why []string
	if status(cur) != rcommon.StatusDeployed {
		why = append(why, fmt.Sprintf("revision %d is %s", cur.Version, status(cur)))
	}
	curVersion, curDigest := "", ""
	if cur.Chart != nil && cur.Chart.Metadata != nil {
		curVersion, curDigest = cur.Chart.Metadata.Version, chartDigest(cur.Chart)
	}
	switch {
	case curVersion != version:
		why = append(why, fmt.Sprintf("chart %s → %s", curVersion, version))
	case curDigest != digest:
		why = append(why, "chart content differs at the same version")
	}
	if changed := changedKeys(cur.Config, values); len(changed) > 0 {
		why = append(why, "values changed: "+strings.Join(changed, ", "))
	}
	return why
}

// changedKeys lists the dotted leaf keys that differ between two value maps.
func changedKeys(before, after map[string]any) []string {
	b, errB := normalizeValues(before)
	a, errA := normalizeValues(after)
	if errB != nil || errA != nil {
		return []string{"(values cannot be compared)"}
	}
	seen := map[string]bool{}
	var out []string
	for _, side := range []map[string]any{b, a} {
		for _, p := range leaves(side) {
			key := strings.Join(p, ".")
			if seen[key] {
				continue
			}
			seen[key] = true
			bv, bok := lookup(b, p)
			av, aok := lookup(a, p)
			if bok != aok || !valuesEqual(bv, av) {
				out = append(out, key)
			}
		}
	}
	sort.Strings(out)
	return out
}
