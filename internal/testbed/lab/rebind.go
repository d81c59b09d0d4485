package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// kwokctl's binary runtime hard-codes 127.0.0.1 wherever its components and its own checks reach
// the API server (the in-cluster kubeconfig, its readiness probes). So the lab is created on
// loopback, and when node hosts must reach the API server it is moved afterwards: stop the cluster,
// point the kube-apiserver's --bind-address and the components' kubeconfig at the node-host
// gateway, start it again. The API server then listens on the gateway address only — reachable
// from this machine and the node hosts, not from other machines — and etcd and the other
// components stay on loopback.

const loopback = "127.0.0.1"

// rebindAPIServer moves a created cluster's API server from loopback to cp.Host.
func rebindAPIServer(ctx context.Context, t *Tools, workDir string, cp controlPlane) error {
	dir := cp.clusterDir()
	if err := runKwokctl(ctx, t, workDir, cp, "stop", "cluster", "--name", cp.Name); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "kwok.yaml")
	if err := editFile(cfgPath, func(s string) (string, error) { return setAPIServerBind(s, cp.Host) }); err != nil {
		return err
	}
	oldServer := "server: https://" + loopback + ":" + strconv.Itoa(cp.Port)
	newServer := "server: " + cp.Server()
	err := editFile(filepath.Join(dir, "kubeconfig.yaml"), func(s string) (string, error) {
		if strings.Count(s, oldServer) != 1 {
			return "", fmt.Errorf("expected one %q", oldServer)
		}
		return strings.Replace(s, oldServer, newServer, 1), nil
	})
	if err != nil {
		return err
	}
	return runKwokctl(ctx, t, workDir, cp, "start", "cluster", "--name", cp.Name)
}

// setAPIServerBind rewrites the kube-apiserver component's --bind-address in kwokctl's saved
// cluster config (kwok.yaml): components are list items "- args: [...]" ending in "  name: <c>".
func setAPIServerBind(config, host string) (string, error) {
	lines := strings.Split(config, "\n")
	start := -1
	for i, l := range lines {
		switch {
		case l == "- args:":
			start = i
		case l == "  name: kube-apiserver" && start >= 0:
			for j := start; j < i; j++ {
				if lines[j] == "  - --bind-address="+loopback {
					lines[j] = "  - --bind-address=" + host
					return strings.Join(lines, "\n"), nil
				}
			}
			return "", fmt.Errorf("kube-apiserver component has no --bind-address=%s", loopback)
		}
	}
	return "", fmt.Errorf("no kube-apiserver component")
}

func editFile(path string, edit func(string) (string, error)) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("move the API server to the node-host gateway: %w", err)
	}
	out, err := edit(string(data))
	if err != nil {
		return fmt.Errorf("move the API server to the node-host gateway: %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		return fmt.Errorf("move the API server to the node-host gateway: %w", err)
	}
	return nil
}
