package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// controlPlaneComponents are the processes kwokctl's binary runtime starts for a lab.
var controlPlaneComponents = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller"}

// componentsAlive fails naming each control-plane process that is not running, with the end of
// its log. It checks nothing before the control plane exists.
func (l *Lab) componentsAlive() error {
	if l.cp.Name == "" {
		return nil
	}
	procs, err := processesMentioning(l.cp.clusterDir())
	if err != nil {
		return err
	}
	running := map[string]bool{}
	for _, p := range procs {
		argv0, _, _ := strings.Cut(p.Cmdline, " ")
		running[filepath.Base(argv0)] = true
	}
	var dead []string
	for _, c := range controlPlaneComponents {
		if running[c] {
			continue
		}
		log, _ := os.ReadFile(filepath.Join(l.cp.clusterDir(), "logs", c+".log"))
		dead = append(dead, fmt.Sprintf("%s is not running; its log ends: %s", c, lastLines(string(log), 3)))
	}
	if len(dead) > 0 {
		return fmt.Errorf("control plane failed: %s", strings.Join(dead, "; "))
	}
	return nil
}

// settleRestarts bounds how often settleControlPlane restarts components that gave up.
const settleRestarts = 3

// settleControlPlane waits until the API server reports ready, then makes sure every component
// still runs. kube-controller-manager and kube-scheduler exit when the API server is not healthy
// within seconds of their start (under load, its RBAC bootstrap can take longer), and kwokctl
// supervises nothing: components that gave up are started again (`kwokctl start cluster` starts
// only the stopped ones).
func (l *Lab) settleControlPlane(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := wait.For(ctx, "the API server ready (/readyz)", l.cfg.ReadyTimeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
			body, err := l.kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
			return err == nil, strings.TrimSpace(string(body)), err
		})
		if err != nil {
			return err
		}
		dead := l.componentsAlive()
		if dead == nil { // look again a moment later: a component may be giving up right now
			time.Sleep(2 * defaults.PollInterval)
			if dead = l.componentsAlive(); dead == nil {
				return nil
			}
		}
		if attempt == settleRestarts {
			return dead
		}
		l.progress("restarting control-plane components that gave up: %v", dead)
		if err := runKwokctl(ctx, l.tools, l.cfg.WorkDir, l.cp, "start", "cluster", "--name", l.cp.Name); err != nil {
			return err
		}
	}
}
