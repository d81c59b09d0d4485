package cilium

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/provenance"
	"sigs.k8s.io/yaml"
)

// signer is a throwaway OpenPGP key, made for one test, and a keyring file holding its public key.
type signer struct {
	entity  *openpgp.Entity
	keyring string
}

func newSigner(t *testing.T, name string) signer {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	e, err := openpgp.NewEntity(name, "test only", name+"@example.invalid", cfg)
	must(t, err)
	var pub bytes.Buffer
	must(t, e.Serialize(&pub))
	ring := filepath.Join(t.TempDir(), "pubring.gpg")
	must(t, os.WriteFile(ring, pub.Bytes(), 0o600))
	return signer{entity: e, keyring: ring}
}

// packageChart writes the test chart as an archive into dir and, when s is given, its .prov beside
// it, as `helm package --sign` does.
func packageChart(t *testing.T, dir string, s *signer) string {
	t.Helper()
	ch, err := LoadChart(testChart, "", "")
	must(t, err)
	archive, err := chartutil.Save(ch, dir)
	must(t, err)
	if s == nil {
		return archive
	}
	data, err := os.ReadFile(archive)
	must(t, err)
	meta, err := yaml.Marshal(ch.Metadata)
	must(t, err)
	prov, err := (&provenance.Signatory{Entity: s.entity}).ClearSign(data, filepath.Base(archive), meta)
	must(t, err)
	must(t, os.WriteFile(archive+".prov", []byte(prov), 0o600))
	return archive
}

// A signed chart is installed and reported verified, with its signer; a chart without a .prov is
// installed with a warning under verify=auto and refused under verify=always; a tampered chart, or
// one signed by a key outside the keyring, is refused before anything changes.
func TestChartProvenance(t *testing.T) {
	t.Parallel()
	trusted, stranger := newSigner(t, "cilium-release"), newSigner(t, "stranger")
	signed := packageChart(t, t.TempDir(), &trusted)
	unsigned := packageChart(t, t.TempDir(), nil)
	tampered := packageChart(t, t.TempDir(), &trusted)
	data, err := os.ReadFile(tampered)
	must(t, err)
	must(t, os.WriteFile(tampered, append(data, 0), 0o600)) // one byte more: the signed sum no longer matches
	foreign := packageChart(t, t.TempDir(), &stranger)

	cases := []struct {
		name, chart, verify, keyring string
		status, warning, err         string
	}{
		{"signed, always", signed, "always", trusted.keyring, "verified", "", ""},
		{"signed, auto", signed, "auto", trusted.keyring, "verified", "", ""},
		{"signed, auto, no keyring", signed, "auto", "", "unverified", "no keyring", ""},
		{"signed, never", signed, "never", trusted.keyring, "skipped", "", ""},
		{"no .prov, auto", unsigned, "auto", trusted.keyring, "unverified", "no provenance file " + unsigned + ".prov", ""},
		{"no .prov, always", unsigned, "always", trusted.keyring, "", "", "no provenance file " + unsigned + ".prov"},
		{"directory, auto", testChart, "auto", trusted.keyring, "unverified", "chart directory", ""},
		{"directory, always", testChart, "always", trusted.keyring, "", "", "chart directory"},
		{"tampered, auto", tampered, "auto", trusted.keyring, "", "", "sha256 sum does not match"},
		{"tampered, always", tampered, "always", trusted.keyring, "", "", "sha256 sum does not match"},
		{"foreign signer, always", foreign, "always", trusted.keyring, "", "", "failed provenance check"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeCluster(t, k3sCluster())
			out, err := f.run(t, Parameters{ChartRef: tc.chart, Verify: tc.verify, Keyring: tc.keyring, Hubble: true})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				if len(f.revisions(t)) != 0 {
					t.Errorf("a chart that failed its check was installed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pv := out.Result.Provenance
			if pv == nil || pv.Status != tc.status {
				t.Fatalf("provenance = %+v, want status %s", pv, tc.status)
			}
			if tc.status == "verified" && (!reflect.DeepEqual(pv.SignedBy, []string{"cilium-release (test only) <cilium-release@example.invalid>"}) ||
				!strings.HasPrefix(pv.FileHash, "sha256:")) {
				t.Errorf("verified provenance = %+v, want the signer and the archive's sum", pv)
			}
			warned := strings.Join(out.Warnings, "\n")
			if tc.warning == "" && strings.Contains(warned, "not verified") {
				t.Errorf("warnings = %q, want none about verification", warned)
			}
			if tc.warning != "" && (!strings.Contains(warned, "chart "+tc.chart+" was not verified: ") ||
				!strings.Contains(warned, tc.warning) || !strings.Contains(pv.Reason, tc.warning)) {
				t.Errorf("warnings = %q, reason = %q, want both to say %q", warned, pv.Reason, tc.warning)
			}
		})
	}
}

// A chart from a repository is verified against the .prov the repository serves beside it.
func TestRepositoryChartProvenance(t *testing.T) {
	t.Parallel()
	trusted, stranger := newSigner(t, "cilium-release"), newSigner(t, "stranger")
	url := chartRepo(t, &trusted)
	f := newFakeCluster(t, k3sCluster())
	out, err := f.run(t, Parameters{ChartRef: "cilium", ChartRepoURL: url, ChartVersion: "1.20.2", Verify: "always", Keyring: trusted.keyring})
	if err != nil || out.Result.Provenance == nil || out.Result.Provenance.Status != "verified" {
		t.Fatalf("signed repository chart: %v, provenance %+v", err, out)
	}
	_, err = f.run(t, Parameters{ChartRef: "cilium", ChartRepoURL: url, ChartVersion: "1.20.2", Verify: "auto", Keyring: stranger.keyring})
	if err == nil || !strings.Contains(err.Error(), "failed provenance check") {
		t.Errorf("repository chart signed by a key outside the keyring: err = %v", err)
	}
	unsignedURL := chartRepo(t, nil)
	_, err = f.run(t, Parameters{ChartRef: "cilium", ChartRepoURL: unsignedURL, Verify: "always", Keyring: trusted.keyring})
	if err == nil || !strings.Contains(err.Error(), "provenance") {
		t.Errorf("unsigned repository chart under verify=always: err = %v", err)
	}
}

func TestVerifyOptionsAreChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ verify, keyring, want string }{
		{"sometimes", "", "verify must be one of auto, always, never"},
		{"always", "", "verify=always needs keyring"},
		{"auto", "/nonexistent/pubring.gpg", "keyring /nonexistent/pubring.gpg"},
	} {
		p := Parameters{Verify: tc.verify, Keyring: tc.keyring}
		if err := p.Normalize(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Normalize(verify=%s keyring=%s) = %v, want %q", tc.verify, tc.keyring, err, tc.want)
		}
	}
}
