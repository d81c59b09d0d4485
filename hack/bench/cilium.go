package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/cilium/ciliumtest"
	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// installer is one way to install the Cilium chart: our module or kubernetes.core.helm.
type installer struct {
	name    string
	env     []string
	argv    func(args string) []string
	install map[string]any
}

// ciliumRuns are the measurements of one installer.
type ciliumRuns struct{ install, noop []moduleRun }

// benchCilium installs the real Cilium chart with the same values on the same lab with
// cilium_install and with kubernetes.core.helm (+ the helm CLI), each as its module process with an
// args file, as Ansible runs them on a target: install (waiting for readiness) and a no-op rerun.
// The runs alternate which tool goes first; each release is removed before the other tool runs.
func benchCilium(ctx context.Context, o *options, t *table) error {
	ours := filepath.Join(o.library, "cilium_install")
	if _, err := os.Stat(ours); err != nil {
		return fmt.Errorf("module %s missing (make build): %w", ours, err)
	}
	chart, err := ciliumtest.ChartDir()
	if err != nil {
		return err
	}
	cfg := lab.Defaults()
	cfg.Name, cfg.Hosts, cfg.Workloads, cfg.Calico = "bench-cilium", false, false, lab.CalicoNone
	l, _, err := o.startLab(ctx, cfg)
	if err != nil {
		return err
	}
	defer o.stopLab(l)
	// The chart holds no CRDs: cilium-operator registers them when it starts. The lab does that
	// for it (kwok's pods run nothing), so both tools' readiness waits can complete.
	kube := kubernetes.NewForConfigOrDie(l.RESTConfig())
	c := &ciliumBench{o: o, kube: kube, kubeconfig: l.Kubeconfig(), chart: chart, ours: ours}
	mine := c.oursInstaller()
	// Warm-up (not measured): our install gives the effective values, the same for both tools.
	values, err := c.warmUp(ctx, mine)
	if err != nil {
		return err
	}
	anchor, anchorErr := c.helmInstaller(ctx, values)
	results := map[string]*ciliumRuns{mine.name: {}}
	order := []installer{mine}
	if anchorErr == nil {
		results[anchor.name] = &ciliumRuns{}
		order = append(order, anchor)
	}
	for i := range o.runs {
		for j := range order {
			in := order[(i+j)%len(order)]
			if in.name == anchor.name && anchorErr != nil {
				continue
			}
			o.progress("cilium: run %d/%d, %s", i+1, o.runs, in.name)
			inst, noop, err := c.installTwice(ctx, in)
			switch {
			case err != nil && in.name == mine.name:
				return fmt.Errorf("%s: %w", in.name, err)
			case err != nil: // the anchor failed: say why, keep measuring ours
				anchorErr = fmt.Errorf("%s failed here: %w", in.name, err)
				o.progress("cilium: %v", anchorErr)
				if rerr := c.remove(ctx); rerr != nil {
					return rerr
				}
				continue
			}
			results[in.name].install = append(results[in.name].install, inst)
			results[in.name].noop = append(results[in.name].noop, noop)
		}
	}
	anchorRuns := results[anchor.name]
	if anchorErr != nil {
		anchorRuns = nil
	}
	addCiliumRows(t, o, results[mine.name], anchorRuns, anchorErr, c.helmBin)
	return nil
}

type ciliumBench struct {
	o                 *options
	kube              kubernetes.Interface
	kubeconfig, chart string
	ours, helmBin     string
}

func (c *ciliumBench) oursInstaller() installer {
	return installer{
		name: "cilium_install",
		argv: func(args string) []string { return []string{c.ours, args} },
		install: map[string]any{"state": "present", "mode": "fresh", "chart_ref": c.chart, "kubeconfig": c.kubeconfig,
			"wait": true, "timeout": 300},
	}
}

// helmInstaller is kubernetes.core.helm from Debian's ansible package, run as its module process
// (python3 -m …, args file) with the helm CLI built from the Go proxy.
func (c *ciliumBench) helmInstaller(ctx context.Context, values map[string]any) (installer, error) {
	collections, err := collectionsPath(ctx)
	if err != nil {
		return installer{}, err
	}
	c.helmBin = c.o.helm
	if c.helmBin == "" {
		out, err := exec.CommandContext(ctx, filepath.Join(c.o.repo, "hack/tools/helm/build.sh"), "--check").Output()
		if err != nil {
			return installer{}, fmt.Errorf("no helm CLI (kubernetes.core.helm shells out to it): run hack/tools/helm/build.sh: %w", err)
		}
		c.helmBin = strings.TrimSpace(string(out))
	}
	return installer{
		name: "kubernetes.core.helm",
		env:  []string{"PYTHONPATH=" + filepath.Dir(collections)},
		argv: func(args string) []string {
			return []string{"python3", "-m", "ansible_collections.kubernetes.core.plugins.modules.helm", args}
		},
		install: map[string]any{"ANSIBLE_MODULE_ARGS": map[string]any{
			"name": "cilium", "release_namespace": "kube-system", "chart_ref": c.chart, "release_values": values,
			"kubeconfig": c.kubeconfig, "wait": true, "wait_timeout": "5m", "binary_path": c.helmBin,
		}},
	}, nil
}

// collectionsPath finds the ansible_collections directory that holds kubernetes.core.
func collectionsPath(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "ansible-galaxy", "collection", "list", "kubernetes.core", "--format", "json").Output()
	if err != nil {
		return "", fmt.Errorf("kubernetes.core not found (ansible-galaxy collection list: %v): install Debian's ansible package", err)
	}
	var found map[string]map[string]any
	if err := json.Unmarshal(out, &found); err != nil {
		return "", fmt.Errorf("ansible-galaxy collection list: %w", err)
	}
	for dir, cols := range found {
		if _, ok := cols["kubernetes.core"]; ok {
			return dir, nil
		}
	}
	return "", fmt.Errorf("kubernetes.core is not installed: install Debian's ansible package")
}

func (c *ciliumBench) warmUp(ctx context.Context, in installer) (map[string]any, error) {
	c.o.progress("cilium: warm-up install (not measured)")
	m, err := c.run(ctx, in, "warmup", in.install)
	if err != nil {
		return nil, err
	}
	values, _ := m.result["values"].(map[string]any)
	if values == nil {
		return nil, fmt.Errorf("cilium_install returned no effective values")
	}
	return values, c.remove(ctx)
}

// installTwice installs, reruns (must change nothing), and removes the release.
func (c *ciliumBench) installTwice(ctx context.Context, in installer) (moduleRun, moduleRun, error) {
	inst, err := c.run(ctx, in, "install", in.install)
	if err != nil {
		return inst, moduleRun{}, err
	}
	if !inst.changed() {
		return inst, moduleRun{}, fmt.Errorf("install reported no change: the release was not removed before")
	}
	noop, err := c.run(ctx, in, "noop", in.install)
	if err != nil {
		return inst, noop, err
	}
	if noop.changed() {
		return inst, noop, fmt.Errorf("the rerun with the same chart and values reported a change")
	}
	return inst, noop, c.remove(ctx)
}

func (c *ciliumBench) run(ctx context.Context, in installer, step string, args map[string]any) (moduleRun, error) {
	path, err := writeArgs(c.o.tmp, in.name+"-"+step, args)
	if err != nil {
		return moduleRun{}, err
	}
	m, err := runModule(ctx, c.kube, in.name, in.env, in.argv(path)...)
	if err == nil {
		c.o.progress("cilium: %s %s: %s, peak RSS %s, changed %v", in.name, step, dur(m.Wall), mib(float64(m.MaxRSSKB)), m.changed())
	}
	return m, err
}

// remove uninstalls the release with our module (not measured; both tools' releases are Helm
// releases in the same storage) and waits until its objects are gone.
func (c *ciliumBench) remove(ctx context.Context) error {
	path, err := writeArgs(c.o.tmp, "remove", map[string]any{"state": "absent", "kubeconfig": c.kubeconfig, "wait": true, "timeout": 300})
	if err != nil {
		return err
	}
	if _, err = runModule(ctx, c.kube, "cilium_install (remove)", nil, c.ours, path); err != nil {
		return err
	}
	// The uninstall leaves the chart's namespace terminating; an install started before it is gone
	// is refused (it happened to the anchor's second run): every run starts from the same state.
	return wait.For(ctx, "namespace cilium-secrets to be gone after the uninstall", 3*time.Minute, 0,
		func(ctx context.Context) (bool, string, error) {
			ns, err := c.kube.CoreV1().Namespaces().Get(ctx, "cilium-secrets", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, "", nil
			}
			if err != nil {
				return false, "", err
			}
			return false, "namespace " + string(ns.Status.Phase), nil
		})
}

func addCiliumRows(t *table, o *options, ours, anchor *ciliumRuns, anchorErr error, helmBin string) {
	anchorName := "kubernetes.core.helm + helm CLI"
	stat := func(rs []moduleRun, f func(moduleRun) float64) float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return median(xs)
	}
	wall := func(r moduleRun) float64 { return r.Wall.Seconds() }
	rss := func(r moduleRun) float64 { return float64(r.MaxRSSKB) }
	tree := func(r moduleRun) float64 { return float64(r.TreeRSSKB) }
	reqs := func(r moduleRun) float64 { return r.apiRequests }
	var a ciliumRuns
	if anchor != nil {
		a = *anchor
	}
	why := ""
	if anchorErr != nil {
		why = "anchor not measured: " + anchorErr.Error() + "; "
	}
	steps := []struct {
		name string
		rs   func(ciliumRuns) []moduleRun
	}{
		{"install, wait for readiness", func(c ciliumRuns) []moduleRun { return c.install }},
		{"no-op rerun (same chart and values)", func(c ciliumRuns) []moduleRun { return c.noop }},
	}
	for _, s := range steps {
		or, ar := s.rs(*ours), s.rs(a)
		ow, aw := stat(or, wall), stat(ar, wall)
		t.add(secCilium, row{
			what: "Cilium 1.20.2 chart, 3 nodes: " + s.name + " — wall time vs " + anchorName,
			ours: secs(ow), anchor: secs(aw), ratio: ratio(ow, aw),
			note: fmt.Sprintf("%s%s; %s; API requests ours %s, anchor %s; module processes with an args file, as Ansible runs them on the node",
				why, runsNote(len(or)), faster(ow, aw), count(stat(or, reqs)), count(stat(ar, reqs))),
		})
		t.add(secCilium, row{
			what: "… " + s.name + " — peak RSS",
			ours: mib(stat(or, rss)), anchor: mib(stat(ar, rss)), ratio: ratio(stat(or, rss), stat(ar, rss)),
			note: fmt.Sprintf("largest process (anchor: the helm CLI it starts); process tree added up: ours %s, anchor %s (python + helm)",
				mib(stat(or, tree)), mib(stat(ar, tree))),
		})
	}
	bin := filepath.Join(o.library, "cilium_install")
	t.add(secCilium, row{
		what: "what the node needs: cilium_install binary vs helm CLI",
		ours: mb(fileSize(bin)), anchor: mb(fileSize(helmBin)), ratio: ratio(float64(fileSize(bin)), float64(fileSize(helmBin))),
		note: "ours: " + filepath.Base(bin) + ", copied by Ansible on each task, nothing else needed; anchor: helm v4 CLI (built -s -w), which must be installed on the node, plus Python and kubernetes.core's module",
	})
}
