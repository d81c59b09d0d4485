package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
