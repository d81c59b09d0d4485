package cilium

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

const testChart = "testdata/cilium"

func TestNodeConfigAPIVersion(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"1.20.2": "cilium.io/v2", "1.16.0": "cilium.io/v2", "v1.16.0-rc.1": "cilium.io/v2",
		"1.15.9": "cilium.io/v2alpha1", "1.13.0": "cilium.io/v2alpha1", "2.0.0": "cilium.io/v2",
	}
	for in, want := range cases {
		if got, err := nodeConfigAPIVersion(in); err != nil || got != want {
			t.Errorf("nodeConfigAPIVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"1.12.5", "latest", ""} {
		if _, err := nodeConfigAPIVersion(bad); err == nil {
			t.Errorf("nodeConfigAPIVersion(%q) accepted", bad)
		}
	}
}

func TestLoadChartRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, ref, version, want string
	}{
		{"not Cilium", "testdata/notcilium", "", "a chart that is not Cilium"},
		{"missing path", "/nonexistent/charts/cilium", "", "chart path does not exist"},
		{"missing archive", "cilium-1.20.2.tgz", "", "chart path does not exist"},
		{"local chart of another version", testChart, "1.19.0", "chart_version asks for 1.19.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadChart(tc.ref, "https://helm.cilium.io", tc.version)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadChart(%s) = %v, want an error containing %q", tc.ref, err, tc.want)
			}
		})
	}
	if ch, err := LoadChart(testChart, "", "v1.20.2"); err != nil || ch.Metadata.Version != "1.20.2" {
		t.Errorf("LoadChart(local cilium) = %v, %v", ch, err)
	}
}

func TestChartDigestSeesContentNotOrder(t *testing.T) {
	t.Parallel()
	ch, err := LoadChart(testChart, "", "")
	if err != nil {
		t.Fatal(err)
	}
	d := chartDigest(ch)
	reordered := *ch
	reordered.Templates = append([]*chartcommon.File(nil), ch.Templates...)
	reordered.Templates[0], reordered.Templates[1] = reordered.Templates[1], reordered.Templates[0]
	if chartDigest(&reordered) != d {
		t.Error("digest depends on template order")
	}
	dir := copyChart(t, testChart)
	must(t, os.WriteFile(filepath.Join(dir, "templates", "extra.yaml"), []byte("# edited\n"), 0o600))
	edited, err := LoadChart(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if chartDigest(edited) == d {
		t.Error("an edited chart with the same version has the same digest")
	}
}

func TestUpToDateReasons(t *testing.T) {
	t.Parallel()
	ch, err := LoadChart(testChart, "", "")
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]any{"tunnelPort": float64(8473)}
	deployed := &release.Release{Name: "cilium", Version: 3, Chart: ch, Config: map[string]any{"tunnelPort": int64(8473)},
		Info: &release.Info{Status: rcommon.StatusDeployed}}
	if why := upToDate(deployed, chartDigest(ch), "1.20.2", vals); len(why) != 0 {
		t.Errorf("same chart and values: reasons %v", why)
	}
	why := upToDate(deployed, chartDigest(ch), "1.20.2", map[string]any{"tunnelPort": 8474.0, "hubble": map[string]any{"enabled": false}})
	if len(why) != 1 || why[0] != "values changed: hubble.enabled, tunnelPort" {
		t.Errorf("reasons = %v", why)
	}
	failed := *deployed
	failed.Info = &release.Info{Status: rcommon.StatusFailed}
	if why := upToDate(&failed, chartDigest(ch), "1.20.2", vals); len(why) != 1 || !strings.Contains(why[0], "failed") {
		t.Errorf("failed release reasons = %v", why)
	}
	if why := upToDate(deployed, "other", "1.20.3", vals); len(why) != 1 || why[0] != "chart 1.20.2 → 1.20.3" {
		t.Errorf("version change reasons = %v", why)
	}
}

func TestInterruptedReleaseIsRecoveredOnlyWhenStale(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	rel := &release.Release{Name: "cilium", Version: 4, Info: &release.Info{Status: rcommon.StatusPendingUpgrade}}
	rel.Info.LastDeployed = now.Add(-time.Minute)
	if err := interrupted(rel, 5*time.Minute, now); err == nil || !strings.Contains(err.Error(), "another Helm operation") {
		t.Errorf("fresh pending release: %v", err)
	}
	rel.Info.LastDeployed = now.Add(-10 * time.Minute)
	if err := interrupted(rel, 5*time.Minute, now); err != nil {
		t.Errorf("stale pending release should be recovered: %v", err)
	}
}

func copyChart(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "cilium")
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	must(t, err)
	return dst
}
