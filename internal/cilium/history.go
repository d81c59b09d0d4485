package cilium

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// target is what a present run wants deployed; it lets readHistory recognize an up-to-date
// release from the Secrets' labels alone.
type target struct {
	chart  *chartv2.Chart
	values map[string]any
	digest string // chartDigest(chart)
}

// label is the release label the module sets on each revision it makes: the revision number and a
// hash of chart and values. A revision made by someone else (helm upgrade copies custom labels,
// a rollback copies the target's) carries another revision number and never matches.
func (d *target) label(revision int) string {
	h := sha256.New()
	h.Write([]byte(d.digest))
	vals, _ := json.Marshal(d.values) // sorted keys
	h.Write(vals)
	return fmt.Sprintf("r%d.%s", revision, hex.EncodeToString(h.Sum(nil))[:40])
}

// readHistory finds the newest and the newest deployed revision. It lists only the release
// Secrets' labels, then reads those one or two revisions: every revision holds the whole chart
// (hundreds of kB for Cilium), so decoding all of them (up to HelmMaxHistory) costs seconds. When
// the newest revision is deployed and labelled as made from want, it is not decoded at all (the
// no-op rerun). Without a metadata client (unit tests on Helm's memory driver) it reads everything.
func readHistory(ctx context.Context, e *env, namespace, name string, want *target) (history, error) {
	if e.meta == nil {
		return readFullHistory(e.helm, name)
	}
	list, err := e.meta.Resource(secretsGVR).Namespace(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{"owner": "helm", "name": name}).String()})
	if err != nil {
		return history{}, fmt.Errorf("read Helm history of release %s: %w", name, err)
	}
	last, deployed, lastLabels := 0, 0, map[string]string(nil)
	for _, item := range list.Items {
		v, err := strconv.Atoi(item.Labels["version"])
		if err != nil {
			continue
		}
		if v > last {
			last, lastLabels = v, item.Labels
		}
		if item.Labels["status"] == string(rcommon.StatusDeployed) {
			deployed = max(deployed, v)
		}
	}
	var h history
	switch {
	case last == 0:
		return h, nil
	case want != nil && deployed == last && lastLabels[defaults.HelmDesiredLabel] == want.label(last):
		h.Last = &release.Release{Name: name, Namespace: namespace, Version: last, Chart: want.chart, Config: want.values,
			Info: &release.Info{Status: rcommon.StatusDeployed}, Labels: lastLabels}
		h.Deployed, h.fromLabels = h.Last, true
		return h, nil
	}
	if h.Last, err = getRevision(e.helm, name, last); err != nil {
		return h, err
	}
	switch {
	case deployed == last:
		h.Deployed = h.Last
	case deployed > 0:
		h.Deployed, err = getRevision(e.helm, name, deployed)
	}
	return h, err
}

func getRevision(cfg *action.Configuration, name string, version int) (*release.Release, error) {
	r, err := cfg.Releases.Get(name, version)
	if err != nil {
		return nil, fmt.Errorf("read revision %d of release %s: %w", version, name, err)
	}
	rel, ok := r.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("release %s: unsupported release record %T", name, r)
	}
	return rel, nil
}

// readFullHistory decodes every revision (Helm's own History).
func readFullHistory(cfg *action.Configuration, name string) (history, error) {
	var h history
	list, err := cfg.Releases.History(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) || strings.Contains(err.Error(), "not found") {
			return h, nil
		}
		return h, fmt.Errorf("read Helm history of release %s: %w", name, err)
	}
	rels := make([]*release.Release, 0, len(list))
	for _, r := range list {
		rel, ok := r.(*release.Release)
		if !ok {
			return h, fmt.Errorf("release %s: unsupported release record %T", name, r)
		}
		rels = append(rels, rel)
	}
	sort.Slice(rels, func(i, j int) bool { return rels[i].Version > rels[j].Version })
	for _, rel := range rels {
		if h.Last == nil {
			h.Last = rel
		}
		if h.Deployed == nil && rel.Info != nil && rel.Info.Status == rcommon.StatusDeployed {
			h.Deployed = rel
		}
	}
	return h, nil
}
