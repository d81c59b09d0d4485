package cilium

import (
	"context"
	"fmt"
	"log/slog"

	"helm.sh/helm/v4/pkg/action"
	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// capabilities is what a client-side render needs to know about the cluster.
type capabilities struct {
	KubeVersion *chartcommon.KubeVersion
	APIVersions chartcommon.VersionSet
}

// renderManifest renders the chart client-side (Helm's DryRunClient: no request to the cluster, no
// release record, nothing written) and returns the manifest without hooks.
func renderManifest(ctx context.Context, ch *chartv2.Chart, values map[string]any, name, namespace string,
	caps capabilities, upgrade bool) (string, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	in := action.NewInstall(cfg)
	in.DryRunStrategy = action.DryRunClient
	in.ReleaseName, in.Namespace = name, namespace
	in.Replace = true
	in.IsUpgrade = upgrade
	in.KubeVersion = caps.KubeVersion
	in.APIVersions = caps.APIVersions
	rel, err := in.RunWithContext(ctx, ch, values)
	if err != nil {
		return "", fmt.Errorf("render chart %s client-side: %w", ch.Name(), err)
	}
	r, ok := rel.(*release.Release)
	if !ok {
		return "", fmt.Errorf("render chart %s: unexpected release type %T", ch.Name(), rel)
	}
	return r.Manifest, nil
}
