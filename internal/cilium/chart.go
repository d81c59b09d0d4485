package cilium

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/downloader"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// LoadChart loads the Cilium chart from a local directory or archive (air-gapped installs), an
// oci:// reference, or a chart repository (chartRef names the chart, "repo/cilium" is accepted as
// kubernetes.core.helm users write it). It refuses charts that are not Cilium.
func LoadChart(chartRef, repoURL, version string) (*chartv2.Chart, error) {
	return loadChecked(chartRef, repoURL, version, nil)
}

// loadVerified loads the chart p names and checks its provenance as p.Verify asks, before the
// chart is even parsed.
func loadVerified(p Parameters) (*chartv2.Chart, *Provenance, error) {
	var pv *Provenance
	ch, err := loadChecked(p.ChartRef, p.ChartRepoURL, p.ChartVersion, func(archive, provName string) error {
		var err error
		pv, err = checkProvenance(p.ChartRef, archive, provName, p.Verify, p.Keyring)
		return err
	})
	return ch, pv, err
}

// provCheck checks the chart at archive (a local chart, or the downloaded archive); provName is how
// messages name the .prov that belongs beside it.
type provCheck func(archive, provName string) error

func loadChecked(chartRef, repoURL, version string, check provCheck) (*chartv2.Chart, error) {
	ch, err := loadAnyChart(chartRef, repoURL, version, check)
	if err != nil {
		return nil, err
	}
	if ch.Metadata == nil || ch.Metadata.Name != defaults.CiliumChartName {
		name := "<no name>"
		if ch.Metadata != nil {
			name = ch.Metadata.Name
		}
		return nil, fmt.Errorf("chart_ref %s is a chart that is not Cilium (chart name %q, want %q)",
			chartRef, name, defaults.CiliumChartName)
	}
	if version != "" && strings.TrimPrefix(ch.Metadata.Version, "v") != strings.TrimPrefix(version, "v") && isLocalRef(chartRef) {
		return nil, fmt.Errorf("chart_ref %s is Cilium chart version %s, but chart_version asks for %s",
			chartRef, ch.Metadata.Version, version)
	}
	return ch, nil
}

func loadAnyChart(chartRef, repoURL, version string, check provCheck) (*chartv2.Chart, error) {
	if isLocalRef(chartRef) {
		if _, err := os.Stat(chartRef); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("chart_ref %s: chart path does not exist", chartRef)
			}
			return nil, fmt.Errorf("chart_ref %s: %w", chartRef, err)
		}
		if check != nil {
			if err := check(chartRef, chartRef+".prov"); err != nil {
				return nil, err
			}
		}
		ch, err := loader.Load(chartRef)
		if err != nil {
			return nil, fmt.Errorf("chart_ref %s: load chart: %w", chartRef, err)
		}
		return ch, nil
	}
	return downloadChart(chartRef, repoURL, version, check)
}

// isLocalRef: anything on disk, or anything that looks like a path or an archive name.
func isLocalRef(ref string) bool {
	if strings.HasPrefix(ref, "oci://") {
		return false
	}
	if _, err := os.Stat(ref); err == nil {
		return true
	}
	return filepath.IsAbs(ref) || strings.HasPrefix(ref, ".") || strings.HasPrefix(ref, "~") ||
		strings.HasSuffix(ref, ".tgz") || strings.HasSuffix(ref, ".tar.gz")
}

// downloadChart fetches an OCI or repository chart into a temporary directory and loads it. Helm's
// downloader writes progress to its Out, which must never be stdout (it belongs to Ansible).
// With a check, the .prov is fetched beside the archive (when the repository has one) and the
// check decides, as for a local archive.
func downloadChart(chartRef, repoURL, version string, check provCheck) (*chartv2.Chart, error) {
	tmp, err := os.MkdirTemp("", "cilium-chart-")
	if err != nil {
		return nil, fmt.Errorf("chart download: %w", err)
	}
	defer os.RemoveAll(tmp)
	settings := cli.New()
	settings.RepositoryCache = filepath.Join(tmp, "repository")
	settings.ContentCache = filepath.Join(tmp, "content")
	rc, err := registry.NewClient(registry.ClientOptWriter(io.Discard))
	if err != nil {
		return nil, fmt.Errorf("chart download: registry client: %w", err)
	}
	getters := getter.All(settings)
	ref := chartRef
	where := chartRef
	if !registry.IsOCI(chartRef) {
		name := path.Base(chartRef) // "cilium/cilium" → "cilium"
		where = fmt.Sprintf("chart %s in repository %s", name, repoURL)
		ref, err = repo.FindChartInRepoURL(repoURL, name, getters, repo.WithChartVersion(version))
		if err != nil {
			return nil, fmt.Errorf("chart_ref %s (chart_repo_url %s, chart_version %q): %w", chartRef, repoURL, version, err)
		}
	}
	dl := downloader.ChartDownloader{
		Out:              io.Discard,
		Getters:          getters,
		Options:          []getter.Option{getter.WithRegistryClient(rc)},
		RegistryClient:   rc,
		RepositoryConfig: settings.RepositoryConfig,
		RepositoryCache:  settings.RepositoryCache,
		ContentCache:     settings.ContentCache,
	}
	if check != nil {
		dl.Verify = downloader.VerifyLater // fetch the .prov if there is one; checkProvenance decides
	}
	file, _, err := dl.DownloadTo(ref, version, tmp)
	if err != nil {
		return nil, fmt.Errorf("download %s (version %q): %w", where, version, err)
	}
	if check != nil {
		if err := check(file, filepath.Base(file)+".prov from "+where); err != nil {
			return nil, err
		}
	}
	ch, err := loader.Load(file)
	if err != nil {
		return nil, fmt.Errorf("load downloaded %s: %w", where, err)
	}
	return ch, nil
}

// chartDigest identifies a chart's content (metadata versions, templates, values, schema, files)
// independently of file order, so that an edited local chart with an unchanged version upgrades.
func chartDigest(ch *chartv2.Chart) string {
	if ch == nil {
		return ""
	}
	h := sha256.New()
	if ch.Metadata != nil {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", ch.Metadata.Name, ch.Metadata.Version, ch.Metadata.AppVersion)
	}
	writeFiles := func(kind string, files []*chartcommon.File) {
		sorted := append([]*chartcommon.File(nil), files...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
		for _, f := range sorted {
			fmt.Fprintf(h, "%s\x00%s\x00%d\x00", kind, f.Name, len(f.Data))
			h.Write(f.Data)
		}
	}
	writeFiles("template", ch.Templates)
	writeFiles("file", ch.Files)
	vals, _ := json.Marshal(ch.Values) // map keys are sorted by encoding/json
	h.Write(vals)
	h.Write(ch.Schema)
	return hex.EncodeToString(h.Sum(nil))
}

// nodeConfigAPIVersion is the CiliumNodeConfig apiVersion for a Cilium version (the chart's
// appVersion): cilium.io/v2 from 1.16 on, cilium.io/v2alpha1 on 1.13–1.15.
func nodeConfigAPIVersion(appVersion string) (string, error) {
	major, minor, err := majorMinor(appVersion)
	if err != nil {
		return "", fmt.Errorf("chart appVersion: %w", err)
	}
	if major > 1 || minor >= defaults.CiliumNodeConfigV2Minor {
		return "cilium.io/v2", nil
	}
	if minor < 13 {
		return "", fmt.Errorf("Cilium %s has no CiliumNodeConfig: the live migration needs Cilium 1.13 or later", appVersion)
	}
	return "cilium.io/v2alpha1", nil
}

// majorMinor parses "1.20.2", "v1.16.0-rc.1" and the like.
func majorMinor(v string) (int, int, error) {
	parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(v), "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("%q is not a version like 1.20.2", v)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not a version like 1.20.2", v)
	}
	return major, minor, nil
}
