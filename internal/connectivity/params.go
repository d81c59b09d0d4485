package connectivity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/health"
	"github.com/cnimigrate/cnimigrate/internal/connectivity/probe"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Check groups: every health check, every probe.
const (
	GroupHealth = "health"
	GroupProbes = "probes"
)

// Fail modes.
const (
	FailOnAny  = "any"
	FailOnNone = "none"
)

// CheckNames lists every name the checks option accepts: the two groups, then the finer names.
func CheckNames() []string {
	names := []string{GroupHealth, GroupProbes}
	names = append(names, health.Checks...)
	return append(names, probe.Groups...)
}

// DefaultChecks is what runs when checks is not given.
var DefaultChecks = []string{GroupHealth, GroupProbes}

// DefaultImages are the probe pods' images (widely used public test images with the tools).
func DefaultImages() map[string]any {
	return map[string]any{"client": defaults.ConnectivityClientImage, "echo": defaults.ConnectivityEchoImage}
}

// Options are the module's options as Ansible passes them (json tags named like the options).
type Options struct {
	CNI             string           `json:"cni"`
	Checks          []string         `json:"checks"`
	Namespaces      []string         `json:"namespaces"`
	Timeout         int              `json:"timeout"`
	ProbeTimeout    int              `json:"probe_timeout"`
	Samples         int              `json:"samples"`
	ExternalTarget  *string          `json:"external_target"` // nil: the default; "": skip
	ExternalDNSName string           `json:"external_dns_name"`
	NodeSelector    map[string]any   `json:"node_selector"`
	Tolerations     []map[string]any `json:"tolerations"`
	Images          map[string]any   `json:"images"`
	Baseline        string           `json:"baseline"`
	OutputJSON      string           `json:"output_json"`
	OutputJUnit     string           `json:"output_junit"`
	FailOn          string           `json:"fail_on"`
	Keep            bool             `json:"keep"`
	Iperf3          bool             `json:"iperf3"`
	Kubeconfig      string           `json:"kubeconfig"`
	Context         string           `json:"context"`
}

// Parameters are validated, typed options.
type Parameters struct {
	CNI             string
	Checks          map[string]bool // finer names only (groups expanded)
	Namespaces      []string
	Timeout         time.Duration
	ProbeTimeout    time.Duration
	Samples         int
	ExternalTarget  string
	ExternalDNSName string
	NodeSelector    map[string]string
	Tolerations     []corev1.Toleration
	Images          probe.Images
	Baseline        string
	OutputJSON      string
	OutputJUnit     string
	FailOn          string
	Keep            bool
	Iperf3          bool
	CheckMode       bool
}

var dnsName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?$`)

// Parse validates options (zero values take the module's defaults) and returns Parameters. Every
// problem is reported at once, each naming its option.
func (o Options) Parse() (Parameters, error) {
	p := Parameters{CNI: o.CNI, Namespaces: o.Namespaces, Samples: o.Samples, ExternalTarget: defaults.ConnectivityExternalTarget,
		ExternalDNSName: o.ExternalDNSName, Baseline: o.Baseline, OutputJSON: o.OutputJSON, OutputJUnit: o.OutputJUnit,
		FailOn: o.FailOn, Keep: o.Keep, Iperf3: o.Iperf3,
		Timeout: seconds(o.Timeout, defaults.ConnectivityTimeout), ProbeTimeout: seconds(o.ProbeTimeout, defaults.ConnectivityProbeTimeout)}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if o.ExternalTarget != nil {
		p.ExternalTarget = *o.ExternalTarget
	}
	p.CNI = orDefault(p.CNI, health.CNIAuto)
	p.FailOn = orDefault(p.FailOn, FailOnAny)
	add(oneOf("cni", p.CNI, health.CNICalico, health.CNICilium, health.CNIAuto))
	add(oneOf("fail_on", p.FailOn, FailOnAny, FailOnNone))
	var err error
	p.Checks, err = expandChecks(o.Checks)
	add(err)
	if p.Samples == 0 {
		p.Samples = defaults.ConnectivitySamples
	}
	if p.Samples < 1 || p.Samples > 1000 {
		add(fmt.Errorf("samples must be between 1 and 1000, got %d", p.Samples))
	}
	if o.Timeout < 0 || o.ProbeTimeout < 0 {
		add(fmt.Errorf("timeout and probe_timeout are seconds and must be positive (got %d, %d)", o.Timeout, o.ProbeTimeout))
	}
	add(validTarget(p.ExternalTarget))
	if p.ExternalDNSName != "" && !dnsName.MatchString(p.ExternalDNSName) {
		add(fmt.Errorf("external_dns_name %q is not a DNS name", p.ExternalDNSName))
	}
	p.NodeSelector = stringMap(o.NodeSelector)
	p.Tolerations, err = parseTolerations(o.Tolerations)
	add(err)
	p.Images, err = parseImages(o.Images)
	add(err)
	return p, errors.Join(errs...)
}

func seconds(n int, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// oneOf reports a bad choice with Ansible's sentence.
func oneOf(name, v string, choices ...string) error {
	for _, c := range choices {
		if v == c {
			return nil
		}
	}
	return fmt.Errorf("value of %s must be one of: %s, got: %s", name, strings.Join(choices, ", "), v)
}

// expandChecks turns group names into finer names; unknown names fail with Ansible's sentence.
func expandChecks(checks []string) (map[string]bool, error) {
	if checks == nil {
		checks = DefaultChecks
	}
	if len(checks) == 0 {
		return nil, fmt.Errorf("checks is empty: name at least one of %s", strings.Join(CheckNames(), ", "))
	}
	known := map[string]bool{}
	for _, n := range CheckNames() {
		known[n] = true
	}
	out := map[string]bool{}
	var bad []string
	for _, c := range checks {
		switch {
		case c == GroupHealth:
			for _, h := range health.Checks {
				out[h] = true
			}
		case c == GroupProbes:
			for _, g := range probe.Groups {
				out[g] = true
			}
		case known[c]:
			out[c] = true
		default:
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("value of checks must be one or more of: %s. Got no match for: %s",
			strings.Join(CheckNames(), ", "), strings.Join(bad, ", "))
	}
	return out, nil
}

func validTarget(target string) error {
	if target == "" {
		return nil
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("external_target must be an http:// or https:// URL (or empty to skip pod-to-external), got %q", target)
	}
	return nil
}

func stringMap(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// parseTolerations reads Kubernetes tolerations, refusing misspelt keys.
func parseTolerations(in []map[string]any) ([]corev1.Toleration, error) {
	var out []corev1.Toleration
	for i, m := range in {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("tolerations[%d]: %w", i, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var t corev1.Toleration
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("tolerations[%d] is not a Kubernetes toleration (key, operator, value, effect, tolerationSeconds): %v", i, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// parseImages fills the images not given with the defaults and refuses unknown keys.
func parseImages(in map[string]any) (probe.Images, error) {
	img := probe.Images{Client: defaults.ConnectivityClientImage, Echo: defaults.ConnectivityEchoImage}
	var unknown []string
	for k, v := range in {
		s, ok := v.(string)
		if !ok || s == "" {
			return img, fmt.Errorf("images.%s must be an image reference, got %v", k, v)
		}
		switch k {
		case "client":
			img.Client = s
		case "echo":
			img.Echo = s
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return img, fmt.Errorf("images has unknown keys %s; known keys: client, echo", strings.Join(unknown, ", "))
	}
	return img, nil
}

// healthEnabled / probesEnabled select the health checks and probe groups that will run.
func (p Parameters) healthEnabled() map[string]bool { return pick(p.Checks, health.Checks) }
func (p Parameters) probesEnabled() map[string]bool { return pick(p.Checks, probe.Groups) }

func pick(enabled map[string]bool, names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		if enabled[n] {
			out[n] = true
		}
	}
	return out
}
