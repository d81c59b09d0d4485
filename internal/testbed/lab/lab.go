package lab

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
)

// Lab is a running lab. Its methods are safe to call after Down (they return what was recorded).
type Lab struct {
	cfg   Config
	tools *Tools
	state *State
	cp    controlPlane
	nodes []Node
	hosts hostHarness                  // nil without node hosts
	load  []*unstructured.Unstructured // the extra pods' Deployments (applyLoad)
	wl    []*unstructured.Unstructured // the workloads and Calico policies (applyWorkloads)

	progressMu sync.Mutex

	kubeconfig   string
	inventory    string
	rest         *rest.Config
	kube         kubernetes.Interface
	apply        *applier
	timings      []Timing
	attached     bool     // a handle from Attach: another process owns the lab
	stopStandIns []func() // stop the goroutines that stand in for operators (see startOperatorStandIn)
	standInLast  string   // the stand-in's last message (said once)
}

// Timing is how long one step of Up took.
type Timing struct {
	Step      string
	Duration  time.Duration
	Alongside bool // ran side by side with other steps: durations overlap
}

// Up creates a lab and returns once nodes, Calico and the workloads are ready. On any failure it
// removes whatever it created (and says so in the error if that failed too).
func Up(ctx context.Context, cfg Config) (*Lab, error) {
	cfg, err := cfg.complete()
	if err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	t, err := FindTools(ctx, cfg.ToolsDir)
	if err != nil {
		return nil, err
	}
	if err := makeWorkDir(cfg.WorkDir, cfg.Name); err != nil {
		return nil, err
	}
	l := &Lab{cfg: cfg, tools: t}
	l.state = &State{
		Name: cfg.Name, WorkDir: cfg.WorkDir, OwnerPID: os.Getpid(), Created: time.Now().UTC(),
		Phase: PhaseStarting, Calico: cfg.Calico, Workloads: cfg.Workloads, Kwokctl: t.Kwokctl,
		Kubectl: t.Kubectl, KwokDir: filepath.Join(cfg.WorkDir, kwokDirName), Keeper: cfg.Keeper,
	}
	if err := l.state.write(); err != nil {
		_ = os.RemoveAll(cfg.WorkDir)
		return nil, err
	}
	if err := l.up(ctx); err != nil {
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if derr := l.Down(cleanupCtx); derr != nil {
			return nil, fmt.Errorf("lab %s: %w (and cleaning up failed too: %v)", cfg.Name, err, derr)
		}
		return nil, fmt.Errorf("lab %s: %w (everything it had created is removed)", cfg.Name, err)
	}
	return l, nil
}

// step is one step of Up.
type step struct {
	name string
	run  func(context.Context) error
	skip bool
}

// up runs the steps stage by stage, recording each stage in the state file first. Within a stage,
// chains of steps that do not depend on each other run side by side: the control plane's start,
// the nodes and the extra pods' Deployments beside the node hosts' slow part (namespaces, keys,
// sshd); then Cilium's CRDs, the node hosts' files, and Calico and the workloads.
func (l *Lab) up(ctx context.Context) error {
	noHosts := !l.cfg.Hosts
	noCalico := l.cfg.Calico == CalicoNone
	stages := [][][]step{
		{{{"node hosts (addresses, bridge)", l.beginHosts, noHosts}}},
		{
			{
				{"control plane", l.startControlPlane, false},
				// The nodes need only the hosts' addresses, fixed by Begin. The extra pods come
				// after the nodes are Ready: pods pending before would all land on the first
				// nodes Ready, up to their pod capacity, leaving no room for DaemonSet pods.
				{"nodes", l.startNodes, false},
				{"extra pods (load)", l.applyLoad, l.cfg.ExtraPods == 0},
			},
			{{"node hosts", l.finishHosts, noHosts}},
		},
		{
			{{"cilium CRDs (cilium-operator's part)", l.registerCiliumCRDs, l.cfg.NoCiliumCRDs}},
			{{"node-host files", l.populateHosts, noHosts}},
			{
				// The workloads are applied before Calico is Ready, so that their pods queue at
				// kube-controller-manager with Calico's instead of after them.
				{"calico", l.applyCalico, noCalico},
				{"workloads", l.applyWorkloads, !l.cfg.Workloads},
				{"calico ready", l.waitCalico, noCalico},
				{"tigera-operator stand-in", func(context.Context) error { return l.startOperatorStandIn() },
					l.cfg.Calico != CalicoOperator || l.cfg.OperatorIdle},
				{"workloads ready", l.waitWorkloads, !l.cfg.Workloads && l.cfg.ExtraPods == 0},
			},
		},
		{{{"inventory", l.writeInventory, false}}},
	}
	for _, stage := range stages {
		if err := l.runStage(ctx, stage); err != nil {
			return err
		}
	}
	l.state.Phase, l.state.Step = PhaseReady, ""
	return l.state.write()
}

// runStage runs the chains of one stage side by side (the steps of a chain in order) and waits
// for all of them: a failed step never leaves another running while the caller removes what the
// lab made.
func (l *Lab) runStage(ctx context.Context, stage [][]step) error {
	var chains [][]step
	var names []string
	for _, chain := range stage {
		var run []step
		for _, s := range chain {
			if !s.skip {
				run = append(run, s)
				names = append(names, s.name)
			}
		}
		if len(run) > 0 {
			chains = append(chains, run)
		}
	}
	if len(chains) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(names, ", "), err)
	}
	l.state.Step = strings.Join(names, ", ")
	if err := l.state.write(); err != nil {
		return err
	}
	stageCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		cause error // the first failure: it cancelled the other chains
	)
	for _, chain := range chains {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range chain {
				l.progress("%s ...", s.name)
				start := time.Now()
				if err := s.run(stageCtx); err != nil {
					mu.Lock()
					if cause == nil {
						cause = fmt.Errorf("%s: %w", s.name, err)
					}
					mu.Unlock()
					cancel() // the other chains stop early: the lab is going away
					return
				}
				d := time.Since(start)
				mu.Lock()
				l.timings = append(l.timings, Timing{Step: s.name, Duration: d, Alongside: len(chains) > 1})
				mu.Unlock()
				l.progress("%s done (%s)", s.name, d.Round(10*time.Millisecond))
			}
		}()
	}
	wg.Wait()
	return cause
}

// progress writes one line to Config.Progress; steps running side by side take turns (the writer
// need not be safe for concurrent use).
func (l *Lab) progress(format string, args ...any) {
	line := fmt.Sprintf("lab %s: %s\n", l.cfg.Name, fmt.Sprintf(format, args...))
	l.progressMu.Lock()
	defer l.progressMu.Unlock()
	_, _ = l.cfg.Progress.Write([]byte(line))
}

// startControlPlane runs kwokctl and connects to the API server.
func (l *Lab) startControlPlane(ctx context.Context) error {
	host := loopback
	var sans []string
	if l.hosts != nil {
		host = l.hosts.Gateway()
		sans = []string{host}
	}
	ports, err := pickPorts(6)
	if err != nil {
		return err
	}
	port := l.cfg.APIServerPort
	if port == 0 {
		port = ports[5]
	} else if err := portFree(loopback, port); err != nil {
		return err
	} else if err := portFree(host, port); err != nil {
		return err
	}
	l.cp = controlPlane{Name: l.cfg.Name, KwokDir: l.state.KwokDir, Host: host, Port: port, ExtraSANs: sans,
		Ports: componentPorts{Etcd: ports[0], EtcdPeer: ports[1], Kwok: ports[2], ControllerManager: ports[3], Scheduler: ports[4]}}
	l.cp.PKIDir = filepath.Join(l.cp.clusterDir(), "pki")
	l.state.Server = l.cp.Server()
	if err := l.state.write(); err != nil {
		return err
	}
	stages, err := kwokStages(ctx, l.cfg.WorkDir, l.cfg.PodStartDelay)
	if err != nil {
		return err
	}
	if err := createControlPlane(ctx, l.tools, l.cfg.WorkDir, l.cp, l.cfg.UnlimitedQPS, stages); err != nil {
		return err
	}
	if err := l.connect(); err != nil {
		return err
	}
	return l.settleControlPlane(ctx)
}

// connect writes the kubeconfig and builds the clients.
func (l *Lab) connect() error {
	data, err := kubeconfigBytes(l.cp.Server(), l.cp.PKIDir)
	if err != nil {
		return err
	}
	l.kubeconfig = filepath.Join(l.cfg.WorkDir, KubeconfigName)
	if err := os.WriteFile(l.kubeconfig, data, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	cfg, err := restConfig(l.kubeconfig)
	if err != nil {
		return err
	}
	cs, err := k8s.FromConfig(cfg, l.kubeconfig)
	if err != nil {
		return err
	}
	l.rest, l.kube = cfg, cs.Kube
	l.apply = newApplier(cs.Dynamic, cs.Kube.Discovery())
	return nil
}

// startNodes creates the K3s-shaped nodes and waits until kwok reports them Ready.
func (l *Lab) startNodes(ctx context.Context) error {
	ips := l.nodeIPs()
	l.nodes = planNodes(l.cfg.Servers, l.cfg.Agents, ips)
	l.state.Nodes = l.nodes
	if err := l.state.write(); err != nil {
		return err
	}
	if err := createNodes(ctx, l.kube, l.nodes); err != nil {
		return err
	}
	return l.waitFor(ctx, "nodes Ready", func(ctx context.Context) (bool, string, error) {
		return nodesReady(ctx, l.kube, l.nodes)
	})
}

// applyCalico installs the configured Calico flavour; waitCalico waits for it.
func (l *Lab) applyCalico(ctx context.Context) error {
	dir, err := calicoManifestsDir(ctx, l.cfg.WorkDir)
	if err != nil {
		return err
	}
	switch l.cfg.Calico {
	case CalicoManifest:
		return l.installCalicoManifest(ctx, dir)
	case CalicoOperator:
		return l.installCalicoOperator(ctx, dir)
	}
	return errors.New("unknown Calico flavour " + string(l.cfg.Calico))
}

// Kubeconfig is the path of the lab's admin kubeconfig (on this machine; the server is reachable
// from the node hosts too when the lab has them).
func (l *Lab) Kubeconfig() string { return l.kubeconfig }

// RESTConfig returns a copy of the admin REST config.
func (l *Lab) RESTConfig() *rest.Config { return rest.CopyConfig(l.rest) }

// InventoryPath is the Ansible inventory of the node hosts ("" without node hosts).
func (l *Lab) InventoryPath() string { return l.inventory }

// Nodes lists the lab's nodes.
func (l *Lab) Nodes() []Node { return append([]Node(nil), l.nodes...) }

// Name is the lab's name; WorkDir its work dir; Server the API server URL.
func (l *Lab) Name() string    { return l.cfg.Name }
func (l *Lab) WorkDir() string { return l.cfg.WorkDir }
func (l *Lab) Server() string  { return l.cp.Server() }

// Tools are the binaries the lab runs (kubectl among them).
func (l *Lab) Tools() Tools { return *l.tools }

// Timings says how long each step of Up took.
func (l *Lab) Timings() []Timing { return append([]Timing(nil), l.timings...) }

// Config is the lab's configuration, defaults filled in.
func (l *Lab) Config() Config { return l.cfg }

// serverHostPort splits an API server URL into host and port.
func serverHostPort(server string) (string, int) {
	u, err := url.Parse(server)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(u.Port())
	return u.Hostname(), port
}
