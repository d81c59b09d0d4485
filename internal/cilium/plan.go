package cilium

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Helm actions a plan can hold.
const (
	ActionNone      = "none"
	ActionInstall   = "install"
	ActionUpgrade   = "upgrade"
	ActionUninstall = "uninstall"
)

// Plan is everything a run would change, computed without changing anything.
type Plan struct {
	Action     string   // ActionInstall, ActionUpgrade, ActionUninstall or ActionNone
	Reasons    []string // why an upgrade is needed
	History    history
	Recover    bool // the newest revision was left pending by an interrupted run: mark it failed first
	Chart      *chartv2.Chart
	Values     map[string]any // what Helm gets (normalized)
	Overrides  []Override
	NodeConfig nodeConfigPlan
	Fix        *autodetectFix
	Warnings   []string
	Provenance *Provenance // whether the chart's signature was checked
	want       *target     // chart and values, for the release label
	manifest   string      // the desired release rendered client-side (render)
	images     []string    // the images manifest references
}

// Changed reports whether applying the plan changes anything.
func (pl *Plan) Changed() bool {
	return pl.Action != ActionNone || pl.Recover || pl.NodeConfig.Op != opNone || pl.Fix != nil
}

// Steps lists the intended changes in the order they are applied.
func (pl *Plan) Steps(p Parameters) []string {
	var out []string
	if pl.Recover {
		out = append(out, fmt.Sprintf("mark revision %d of release %s (left %s by an interrupted run) failed",
			pl.History.Last.Version, p.ReleaseName, status(pl.History.Last)))
	}
	if pl.Fix != nil {
		out = append(out, pl.Fix.Describe)
	}
	switch pl.Action {
	case ActionInstall:
		out = append(out, fmt.Sprintf("install release %s (chart %s %s) in %s", p.ReleaseName, pl.Chart.Name(), pl.Chart.Metadata.Version, p.Namespace))
	case ActionUpgrade:
		out = append(out, fmt.Sprintf("upgrade release %s from revision %d (%s)", p.ReleaseName, pl.History.Last.Version, strings.Join(pl.Reasons, "; ")))
	case ActionUninstall:
		out = append(out, fmt.Sprintf("uninstall release %s (revision %d)", p.ReleaseName, pl.History.Last.Version))
	}
	if pl.NodeConfig.Op != opNone {
		out = append(out, pl.NodeConfig.describe())
	}
	return out
}

// planPresent plans state=present: chart, values, preflight, Helm action, CiliumNodeConfig.
func planPresent(ctx context.Context, e *env, p Parameters) (*Plan, error) {
	pl := &Plan{Action: ActionNone}
	ch, pv, err := loadVerified(p)
	if err != nil {
		return nil, err
	}
	pl.Chart, pl.Provenance = ch, pv
	if w := pv.warning(p.ChartRef); w != "" {
		pl.Warnings = append(pl.Warnings, w)
	}
	api, warn, err := apiServer(ctx, e.kube, e.host, p)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		pl.Warnings = append(pl.Warnings, warn)
	}
	preset := Preset(p, api)
	desired, user, err := DesiredValues(preset, p.ValuesFiles, p.Values)
	if err != nil {
		return nil, err
	}
	pl.Values = desired
	pl.want = &target{chart: ch, values: desired, digest: chartDigest(ch)}
	pl.Overrides = Overrides(preset, user)
	pl.Warnings = append(pl.Warnings, overrideWarnings(p.Mode, pl.Overrides)...)
	pf, err := preflight(ctx, e.kube, e.dyn, p, desired)
	if pf != nil {
		pl.Warnings = append(pl.Warnings, pf.Warnings...)
		pl.Fix = pf.Fix
	}
	if err != nil {
		return pl, err
	}
	if err := pl.readHistory(ctx, e, p); err != nil {
		return nil, err
	}
	hist := pl.History
	if !hist.exists() {
		pl.Action = ActionInstall
	} else if pl.Reasons = upToDate(hist.Last, pl.want.digest, ch.Metadata.Version, desired); len(pl.Reasons) > 0 || pl.Recover {
		pl.Action = ActionUpgrade
	}
	if p.Mode == ModeMigration || p.Mode == ModeFinalize {
		apiVersion, err := nodeConfigAPIVersion(ch.Metadata.AppVersion)
		if err != nil {
			return pl, err
		}
		pl.NodeConfig, err = planNodeConfig(ctx, e.dyn, p.Mode == ModeMigration, apiVersion, p.Namespace)
		if err != nil {
			return pl, err
		}
	}
	return pl, nil
}

// render renders the desired release client-side (nothing reaches the cluster) for the images it
// pulls and, with diff, the objects it changes: in check mode too, before anything is pulled.
func (pl *Plan) render(ctx context.Context, e *env, p Parameters) error {
	caps, err := e.caps(ctx)
	if err != nil {
		return err
	}
	pl.manifest, err = renderManifest(ctx, pl.Chart, pl.Values, p.ReleaseName, p.Namespace, caps, pl.History.exists())
	if err != nil {
		return err
	}
	pl.images, err = manifestImages(pl.manifest)
	return err
}

// planAbsent plans state=absent: uninstall the release and remove the CiliumNodeConfig.
func planAbsent(ctx context.Context, e *env, p Parameters) (*Plan, error) {
	pl := &Plan{Action: ActionNone}
	hist, err := readHistory(ctx, e, p.Namespace, p.ReleaseName, nil)
	if err != nil {
		return nil, err
	}
	pl.History = hist
	if hist.exists() {
		pl.Action = ActionUninstall
	}
	pl.NodeConfig, err = planNodeConfig(ctx, e.dyn, false, "", p.Namespace)
	return pl, err
}

// readHistory reads the release (from labels only when it is the desired one and no diff is
// wanted) and decides whether an interrupted revision is to be recovered.
func (pl *Plan) readHistory(ctx context.Context, e *env, p Parameters) error {
	want := pl.want
	if p.Diff {
		want = nil // a diff needs the deployed manifest
	}
	hist, err := readHistory(ctx, e, p.Namespace, p.ReleaseName, want)
	if err != nil {
		return err
	}
	pl.History = hist
	if hist.pending() {
		if err := interrupted(hist.Last, p.Timeout, e.now()); err != nil {
			return err
		}
		pl.Recover = true
	}
	return nil
}

// apiServer returns k8sServiceHost/Port: the options when given, else the kubeconfig's server (K3s
// style). A loopback server (K3s' k3s.yaml says https://127.0.0.1:6443) is useless to agents on
// other nodes, so then the kubernetes Service's endpoints (the servers' real addresses) are used.
func apiServer(ctx context.Context, kube kubernetes.Interface, server string, p Parameters) (APIServer, string, error) {
	api := APIServer{Host: p.K8sServiceHost, Port: p.K8sServicePort}
	if api.Host != "" && api.Port != 0 {
		return api, "", nil
	}
	u, err := url.Parse(server)
	if err != nil || u.Hostname() == "" {
		return api, "", fmt.Errorf("cannot tell the API server address from kubeconfig server %q: set k8s_service_host and k8s_service_port", server)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	var warn string
	if isLoopback(host) {
		if h, pt := kubernetesEndpoint(ctx, kube); h != "" {
			host, port = h, pt
		} else {
			warn = fmt.Sprintf("k8sServiceHost is %s (from the kubeconfig): agents on other nodes cannot reach it; set k8s_service_host", host)
		}
	}
	if api.Host == "" {
		api.Host = host
	}
	if api.Port == 0 {
		api.Port, _ = strconv.Atoi(port)
	}
	return api, warn, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// kubernetesEndpoint reads the first address and port of the default/kubernetes Service's
// EndpointSlice: where the API servers listen.
func kubernetesEndpoint(ctx context.Context, kube kubernetes.Interface) (string, string) {
	slices, err := kube.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).List(ctx,
		metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=kubernetes"})
	if err != nil {
		return "", ""
	}
	for _, s := range slices.Items {
		if len(s.Ports) == 0 || s.Ports[0].Port == nil {
			continue
		}
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) > 0 {
				return ep.Addresses[0], strconv.Itoa(int(*s.Ports[0].Port))
			}
		}
	}
	return "", ""
}
