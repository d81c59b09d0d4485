package cilium

import (
	"reflect"
	"strings"
	"testing"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// The result names the images the release pulls, in check mode too and when nothing changes, so an
// air-gapped user knows what to mirror before the run that needs them.
func TestResultListsImages(t *testing.T) {
	t.Parallel()
	f := newFakeCluster(t, k3sCluster())
	want := []string{"quay.io/cilium/cilium:v1.20.2"}
	check := f.mustRun(t, Parameters{CheckMode: true, Hubble: true})
	if !reflect.DeepEqual(check.Result.Images, want) {
		t.Errorf("check mode images = %v, want %v", check.Result.Images, want)
	}
	if n := len(f.revisions(t)); n != 0 {
		t.Fatalf("check mode installed %d revisions", n)
	}
	for _, what := range []string{"install", "rerun"} {
		if out := f.mustRun(t, Parameters{Hubble: true}); !reflect.DeepEqual(out.Result.Images, want) {
			t.Errorf("%s images = %v, want %v", what, out.Result.Images, want)
		}
	}
	if gone := f.mustRun(t, Parameters{State: StateAbsent}); len(gone.Result.Images) != 0 {
		t.Errorf("state=absent images = %v, want none", gone.Result.Images)
	}
}

// On the real chart with the presets the tests install, the images are Cilium's agent and
// operator (and Envoy's), pinned to the chart's version, sorted and each named once.
func TestImagesOfTheRealChart(t *testing.T) {
	t.Parallel()
	ch, err := LoadChart(realChart(t), "", "")
	must(t, err)
	kube := &chartcommon.KubeVersion{Version: defaults.LabKubeVersion, Major: "1", Minor: "36"} // the chart wants ≥ 1.21
	for _, mode := range []Mode{ModeFresh, ModeMigration} {
		p := Parameters{Mode: mode, Hubble: true}
		must(t, p.Normalize())
		values, _, err := DesiredValues(Preset(p, APIServer{Host: "198.18.0.1", Port: 6443}), nil, nil)
		must(t, err)
		manifest, err := renderManifest(t.Context(), ch, values, "cilium", "kube-system", capabilities{KubeVersion: kube}, false)
		must(t, err)
		images, err := manifestImages(manifest)
		must(t, err)
		// The chart of the module zip names tags without digests (the released chart adds them).
		want := []string{"quay.io/cilium/cilium-envoy:", "quay.io/cilium/cilium:v1.20.2", "quay.io/cilium/operator-generic:v1.20.2"}
		if len(images) != len(want) {
			t.Fatalf("%s: images = %v, want %d: the agent, the operator and Envoy", mode, images, len(want))
		}
		for i, prefix := range want {
			if !strings.HasPrefix(images[i], prefix) {
				t.Errorf("%s: image %d = %s, want %s… (sorted)", mode, i, images[i], prefix)
			}
		}
	}
}
