package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cnimigrate/cnimigrate/internal/k8s"
)

// Attach returns a handle on the running lab whose work dir is dir (another process, e.g. the
// `hack/lab up` keeper, owns it). Its Down brings the lab down through DownDir.
func Attach(ctx context.Context, dir string) (*Lab, error) {
	st, err := ReadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no lab in %s (no %s)", dir, StateName)
	}
	if err != nil {
		return nil, err
	}
	if st.Phase != PhaseReady {
		return nil, fmt.Errorf("lab %s is not ready (phase %s, step %q)", st.Name, st.Phase, st.Step)
	}
	l := &Lab{
		cfg:      Config{Name: st.Name, WorkDir: st.WorkDir, Calico: st.Calico, Workloads: st.Workloads, Hosts: st.Hosts != nil},
		tools:    &Tools{Dir: filepath.Dir(st.Kubectl), Kubectl: st.Kubectl, Kwokctl: st.Kwokctl},
		state:    st,
		nodes:    st.Nodes,
		attached: true,
	}
	l.cfg.Progress = discard{}
	for _, n := range st.Nodes {
		if n.Role == RoleServer {
			l.cfg.Servers++
		} else {
			l.cfg.Agents++
		}
	}
	l.kubeconfig = filepath.Join(st.WorkDir, KubeconfigName)
	if inv := filepath.Join(st.WorkDir, InventoryName); fileExists(inv) {
		l.inventory = inv
	}
	cfg, err := restConfig(l.kubeconfig)
	if err != nil {
		return nil, err
	}
	cs, err := k8s.FromConfig(cfg, l.kubeconfig)
	if err != nil {
		return nil, err
	}
	l.rest, l.kube = cfg, cs.Kube
	l.apply = newApplier(cs.Dynamic, cs.Kube.Discovery())
	l.cp.Host, l.cp.Port = serverHostPort(st.Server)
	return l, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
