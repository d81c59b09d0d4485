package cilium

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// chartRepo serves the test chart as a Helm repository on loopback (index.yaml + the archive, and
// its .prov when s signs it).
func chartRepo(t *testing.T, s *signer) string {
	t.Helper()
	ch, err := LoadChart(testChart, "", "")
	must(t, err)
	dir := t.TempDir()
	archive := packageChart(t, dir, s)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	idx := repo.NewIndexFile()
	must(t, idx.MustAdd(ch.Metadata, filepath.Base(archive), srv.URL, ""))
	must(t, idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644))
	return srv.URL
}

func TestLoadChartFromARepository(t *testing.T) {
	t.Parallel()
	url := chartRepo(t, nil)
	for _, ref := range []string{"cilium", "cilium/cilium"} {
		ch, err := LoadChart(ref, url, "1.20.2")
		if err != nil || ch.Metadata.Name != "cilium" || ch.Metadata.Version != "1.20.2" {
			t.Errorf("LoadChart(%s from %s) = %v, %v", ref, url, ch, err)
		}
	}
	cases := []struct{ ref, repoURL, version, want string }{
		{"cilium", url, "9.9.9", `chart_ref cilium (chart_repo_url ` + url + `, chart_version "9.9.9")`},
		{"cilium", "http://127.0.0.1:1", "", "is not a valid chart repository or cannot be reached"},
		{"oci://127.0.0.1:1/charts/cilium", "", "1.20.2", "download oci://127.0.0.1:1/charts/cilium"},
	}
	for _, tc := range cases {
		if _, err := LoadChart(tc.ref, tc.repoURL, tc.version); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadChart(%s, %s, %s) = %v, want an error containing %q", tc.ref, tc.repoURL, tc.version, err, tc.want)
		}
	}
}
