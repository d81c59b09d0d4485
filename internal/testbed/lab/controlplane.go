package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// kwokctl's own files live under <work dir>/kwok (KWOK_WORKDIR); the cluster's under
// <work dir>/kwok/clusters/<name>. kwokctl also edits $KUBECONFIG: we point that at a file of ours
// so the user's ~/.kube/config is never touched.
const (
	kwokDirName           = "kwok"
	kwokctlConfigName     = "kwokctl.yaml"
	kwokctlKubeconfigName = "kwokctl.kubeconfig"
	kwokctlLogName        = "kwokctl.log"
)

// controlPlane is what the lab needs to know about the running kwokctl cluster.
type controlPlane struct {
	Name      string // kwokctl cluster name (= lab name)
	KwokDir   string // KWOK_WORKDIR
	Host      string // address clients use: the node-host gateway, or 127.0.0.1
	Port      int
	Ports     componentPorts // the other components' ports (chosen here: kwokctl's own choice races)
	PKIDir    string         // ca.crt, admin.crt, admin.key
	ExtraSANs []string
}

func (cp controlPlane) clusterDir() string { return filepath.Join(cp.KwokDir, "clusters", cp.Name) }

// Server is the API server URL clients (and node hosts) use.
func (cp controlPlane) Server() string {
	return "https://" + net.JoinHostPort(cp.Host, strconv.Itoa(cp.Port))
}

// kwokctlConfig renders the KwokctlConfiguration: binary runtime, our binaries, admission plugins
// and RBAC on, anonymous access off, K3s' service CIDR, every component on loopback (see
// rebindAPIServer for node hosts), ports chosen by us.
func kwokctlConfig(t *Tools, cp controlPlane, unlimitedQPS bool) ([]byte, error) {
	apiserverArgs := []map[string]any{
		{"key": "service-cluster-ip-range", "value": defaults.K3sServiceCIDR},
		{"key": "anonymous-auth", "value": "false"},
	}
	opts := map[string]any{
		"runtime":                     "binary",
		"bindAddress":                 loopback,
		"kubeApiserverPort":           cp.Port,
		"etcdPort":                    cp.Ports.Etcd,
		"etcdPeerPort":                cp.Ports.EtcdPeer,
		"kwokControllerPort":          cp.Ports.Kwok,
		"kubeControllerManagerPort":   cp.Ports.ControllerManager,
		"kubeSchedulerPort":           cp.Ports.Scheduler,
		"kubeApiserverCertSANs":       cp.ExtraSANs,
		"kubeVersion":                 defaults.LabKubeVersion,
		"etcdVersion":                 strings.TrimPrefix(defaults.LabEtcdVersion, "v"),
		"kwokVersion":                 defaults.LabKwokVersion,
		"kubeAdmission":               true,
		"kubeAuthorization":           true,
		"disableQPSLimits":            unlimitedQPS,
		"kubeApiserverBinary":         t.KubeApiserver,
		"kubeControllerManagerBinary": t.KubeControllerManager,
		"kubeSchedulerBinary":         t.KubeScheduler,
		"kubectlBinary":               t.Kubectl,
		"kwokControllerBinary":        t.Kwok,
		"etcdBinary":                  t.Etcd,
	}
	doc := map[string]any{
		"apiVersion": "config.kwok.x-k8s.io/v1alpha1",
		"kind":       "KwokctlConfiguration",
		"options":    opts,
		"componentsPatches": []map[string]any{
			{"name": "kube-apiserver", "extraArgs": apiserverArgs},
			// One instance each and nobody restarts them: without leader election they cannot
			// exit on a lease renewal that a busy machine delayed.
			{"name": "kube-controller-manager", "extraArgs": []map[string]any{{"key": "leader-elect", "value": "false"}}},
			{"name": "kube-scheduler", "extraArgs": []map[string]any{{"key": "leader-elect", "value": "false"}}},
		},
	}
	return yaml.Marshal(doc)
}

// createControlPlane writes the kwokctl config (followed by stages, kwok Stage documents, if any)
// and runs `kwokctl create cluster`, which returns once the API server answers; then, if cp.Host is
// not loopback, moves the API server there.
// kwokctl's output goes to kwokctl.log in the work dir; its tail is in the error.
func createControlPlane(ctx context.Context, t *Tools, workDir string, cp controlPlane, unlimitedQPS bool, stages []byte) error {
	cfg, err := kwokctlConfig(t, cp, unlimitedQPS)
	if err != nil {
		return fmt.Errorf("render kwokctl config: %w", err)
	}
	cfg = append(cfg, stages...)
	cfgPath := filepath.Join(workDir, kwokctlConfigName)
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return fmt.Errorf("write kwokctl config: %w", err)
	}
	args := []string{"--config", cfgPath, "create", "cluster", "--name", cp.Name, "--runtime", "binary"}
	if cp.Host == loopback {
		// kwokctl's readiness check probes the components on 127.0.0.1: only meaningful when the
		// cluster stays there. (create waits until the API server serves either way.)
		return runKwokctl(ctx, t, workDir, cp, append(args, "--wait", "2m")...)
	}
	if err := runKwokctl(ctx, t, workDir, cp, args...); err != nil {
		return err
	}
	return rebindAPIServer(ctx, t, workDir, cp)
}

// deleteControlPlane runs `kwokctl delete cluster`; callers kill leftovers themselves.
func deleteControlPlane(ctx context.Context, kwokctl, workDir string, cp controlPlane) error {
	return runKwokctl(ctx, &Tools{Kwokctl: kwokctl}, workDir, cp, "delete", "cluster", "--name", cp.Name)
}

func runKwokctl(ctx context.Context, t *Tools, workDir string, cp controlPlane, args ...string) error {
	logPath := filepath.Join(workDir, kwokctlLogName)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", logPath, err)
	}
	defer logFile.Close()
	var tail bytes.Buffer
	cmd := exec.CommandContext(ctx, t.Kwokctl, args...)
	cmd.Env = append(os.Environ(),
		"KWOK_WORKDIR="+cp.KwokDir,
		"KUBECONFIG="+filepath.Join(workDir, kwokctlKubeconfigName),
		"KUBECACHEDIR="+filepath.Join(workDir, "kube-cache"),
	)
	cmd.Stdout = logFile
	cmd.Stderr = &teeTail{w: logFile, tail: &tail}
	fmt.Fprintf(logFile, "$ kwokctl %s\n", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kwokctl %s: %w (log %s): %s", strings.Join(args, " "), err, logPath, lastLines(tail.String(), 8))
	}
	return nil
}

// teeTail writes to w and keeps a copy (bounded) for error messages.
type teeTail struct {
	w    *os.File
	tail *bytes.Buffer
}

func (t *teeTail) Write(p []byte) (int, error) {
	t.tail.Write(p)
	if t.tail.Len() > 16<<10 {
		t.tail.Next(t.tail.Len() - 8<<10)
	}
	return t.w.Write(p)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// componentPorts are the loopback ports of etcd, kwok, kube-controller-manager and kube-scheduler.
type componentPorts struct {
	Etcd, EtcdPeer, Kwok, ControllerManager, Scheduler int
}

// pickPorts asks the kernel for distinct free ports. kwokctl's own picker scans downwards from a
// fixed port, so two labs created at the same moment pick the same ports; the kernel's ephemeral
// ports are spread out.
func pickPorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// portFree fails with a clear message when something already listens on host:port.
func portFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("API server port %d on %s is not free (%v): choose another or 0 for a free one", port, host, err)
	}
	return l.Close()
}
