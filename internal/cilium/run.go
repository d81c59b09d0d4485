package cilium

import (
	"context"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
)

// env is what a run talks to. Run builds it from the kubeconfig; tests build it from fakes and
// Helm's in-memory storage.
type env struct {
	kube kubernetes.Interface
	dyn  dynamic.Interface
	meta metadata.Interface // nil: read Helm history in full
	helm *action.Configuration
	host string // the kubeconfig's API server URL
	// kubeconfig is the file the clients came from (for messages).
	kubeconfig string
	caps       func(ctx context.Context) (capabilities, error)
	now        func() time.Time
}

// Diff is one entry of the module's diff output.
type Diff struct {
	Before, After, BeforeHeader, AfterHeader string
}

// Outcome is the result of a run, for the module to report.
type Outcome struct {
	Changed  bool
	Msg      string
	Diffs    []Diff
	Warnings []string
	Result   Result
}

// Result holds the module's own result keys.
type Result struct {
	ReleaseName     string           `json:"release_name"`
	Namespace       string           `json:"namespace"`
	Revision        int              `json:"revision"`
	Status          string           `json:"status"`
	ChartVersion    string           `json:"chart_version"`
	AppVersion      string           `json:"app_version"`
	Values          map[string]any   `json:"values"`
	Readiness       *Readiness       `json:"readiness"`
	PresetOverrides []Override       `json:"preset_overrides"`
	Action          string           `json:"action"`
	Plan            []string         `json:"plan"`
	RolledBack      bool             `json:"rolled_back"`
	ManifestSummary *ManifestSummary `json:"manifest_summary,omitempty"`
	// Provenance: whether the chart's .prov was checked (state=present only).
	Provenance *Provenance `json:"provenance,omitempty"`
	// Images the desired release's pods pull, sorted (none for state=absent).
	Images []string `json:"images"`
}

// Run installs, upgrades or removes Cilium as p asks. In check mode it only plans. A failure
// after changes began still returns the Outcome (what was done, whether it was rolled back).
func Run(ctx context.Context, p Parameters) (*Outcome, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	e, err := connect(ctx, p)
	if err != nil {
		return nil, err
	}
	out, err := run(ctx, p, e)
	if apierrors.IsForbidden(err) && !strings.Contains(err.Error(), "because it is being terminated") {
		err = fmt.Errorf("the kubeconfig %s lacks a permission cilium_install needs (it reads nodes, "+
			"Calico's and Cilium's objects, and manages the release in %s): %w", e.kubeconfig, p.Namespace, err)
	}
	return out, err
}

// connect builds clients from the kubeconfig and checks that the API server answers.
func connect(ctx context.Context, p Parameters) (*env, error) {
	clients, err := k8s.New(p.Kubeconfig, p.Context)
	if err != nil {
		return nil, err
	}
	info, err := clients.Kube.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("cannot reach the Kubernetes API server %s (kubeconfig %s): %w",
			clients.RESTConfig.Host, clients.Kubeconfig, err)
	}
	cfg, err := newHelmConfig(clients.Kubeconfig, p.Context, p.Namespace)
	if err != nil {
		return nil, err
	}
	caps := func(ctx context.Context) (capabilities, error) {
		apis, err := action.GetVersionSet(clients.Kube.Discovery())
		if err != nil {
			return capabilities{}, fmt.Errorf("discover API versions: %w", err)
		}
		kv := &chartcommon.KubeVersion{Version: info.GitVersion, Major: info.Major, Minor: info.Minor}
		return capabilities{KubeVersion: kv, APIVersions: apis}, nil
	}
	meta, err := metadata.NewForConfig(clients.RESTConfig)
	if err != nil {
		return nil, fmt.Errorf("metadata client for %s: %w", clients.Kubeconfig, err)
	}
	return &env{kube: clients.Kube, dyn: clients.Dynamic, meta: meta, helm: cfg, host: clients.RESTConfig.Host,
		kubeconfig: clients.Kubeconfig, caps: caps, now: time.Now}, nil
}

func run(ctx context.Context, p Parameters, e *env) (*Outcome, error) {
	var pl *Plan
	var err error
	if p.State == StateAbsent {
		pl, err = planAbsent(ctx, e, p)
	} else {
		pl, err = planPresent(ctx, e, p)
	}
	if err != nil {
		if pl != nil && isPreflight(err) {
			out := newOutcome(p, pl)
			out.Changed, out.Result.Action, out.Result.Plan = false, ActionNone, []string{}
			return out, err
		}
		return nil, err
	}
	if p.State == StatePresent {
		if err := pl.render(ctx, e, p); err != nil {
			return nil, err
		}
	}
	out := newOutcome(p, pl)
	if p.CheckMode || !pl.Changed() {
		if err := describe(ctx, e, p, pl, out); err != nil {
			return out, err
		}
		return out, nil
	}
	return applyPlan(ctx, e, p, pl, out)
}

// newOutcome fills what is known from the plan alone.
func newOutcome(p Parameters, pl *Plan) *Outcome {
	out := &Outcome{Changed: pl.Changed(), Warnings: pl.Warnings}
	out.Result = Result{
		ReleaseName:     p.ReleaseName,
		Namespace:       p.Namespace,
		Action:          pl.Action,
		Plan:            pl.Steps(p),
		PresetOverrides: pl.Overrides,
		Provenance:      pl.Provenance,
		Images:          pl.images,
	}
	if out.Result.Images == nil {
		out.Result.Images = []string{}
	}
	if out.Result.PresetOverrides == nil {
		out.Result.PresetOverrides = []Override{}
	}
	if out.Result.Plan == nil {
		out.Result.Plan = []string{}
	}
	if pl.Values != nil {
		out.Result.Values = maskSecrets(pl.Values).(map[string]any)
	}
	fillRelease(&out.Result, pl.History.Last)
	return out
}
