package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cnimigrate/cnimigrate/hack/bench/internal/proctree"
)

// manualScript is migrate-pods-to-cilium.sh from the migration article (part 9), as written, with two
// substitutions: NAMESPACES lists the benchmark's namespaces, and validate_connectivity, which the
// article calls but never defines (under `set -e` the script would stop at the first call), is a
// no-op: its connectivity checks would send traffic to the lab's fake pod IPs, which is forbidden.
const manualScript = `#!/bin/bash
# migrate-pods-to-cilium.sh
set -e

validate_connectivity() { :; } # bench: the article never defines it

NAMESPACES=(%s)

for namespace in "${NAMESPACES[@]}"; do
    echo "=== Migrating namespace: $namespace ==="
    
    # Get all deployments in namespace
    deployments=$(kubectl get deployments -n "$namespace" -o name)
    
    for deployment in $deployments; do
        echo "Restarting $deployment in $namespace"
        kubectl rollout restart "$deployment" -n "$namespace"
        kubectl rollout status "$deployment" -n "$namespace" --timeout=300s
        
        # Validate connectivity after each deployment
        validate_connectivity "$namespace" "$deployment"
    done
    
    # Handle StatefulSets separately
    statefulsets=$(kubectl get statefulsets -n "$namespace" -o name)
    for sts in $statefulsets; do
        echo "Restarting $sts in $namespace"
        kubectl rollout restart "$sts" -n "$namespace"
        kubectl rollout status "$sts" -n "$namespace" --timeout=300s
    done
    
    echo "=== Completed migration for namespace: $namespace ==="
done
`

// shellScript is a careful operator's shell (benchmarks.md): one rollout restart per namespace and
// kind, then rollout status for every workload, %d at a time.
const shellScript = `#!/bin/bash
set -euo pipefail
NAMESPACES=(%s)
for ns in "${NAMESPACES[@]}"; do
  kubectl rollout restart deployment -n "$ns"
  kubectl rollout restart statefulset -n "$ns"
done
for ns in "${NAMESPACES[@]}"; do
  kubectl get deployment,statefulset -n "$ns" -o name | sed "s|^|$ns |"
done | xargs -P %d -n 2 sh -c 'kubectl rollout status "$1" -n "$0" --timeout=300s >/dev/null'
`

// measure is one run of one approach.
type measure struct {
	wall     time.Duration
	rssKB    int64         // peak resident set of the largest process of the run
	cpu      time.Duration // user+system CPU time of the run's processes
	treeKB   int64         // peak of the run's whole process tree, added up (sampled)
	toolReqs int           // requests the tool itself sent (counting proxy)
	apiReqs  float64
	verbs    map[string]int
}

// runner runs the tools with the proxy's kubeconfig, the lab's kubectl first on PATH, and a HOME
// of their own (kubectl's discovery cache: warm after the first run, as on an operator's machine).
type runner struct {
	dir, kubeconfig, kubectlDir, module string
	namespaces                          []string
}

func (r *runner) env() []string {
	return append(os.Environ(), "KUBECONFIG="+r.kubeconfig, "HOME="+filepath.Join(r.dir, "home"),
		"PATH="+r.kubectlDir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func (r *runner) script(ctx context.Context, name, body string) (measure, error) {
	path := filepath.Join(r.dir, name+".sh")
	if err := os.WriteFile(path, []byte(body), 0o700); err != nil {
		return measure{}, err
	}
	return r.exec(ctx, exec.CommandContext(ctx, "bash", path))
}

func (r *runner) manual(ctx context.Context) (measure, error) {
	return r.script(ctx, "manual", fmt.Sprintf(manualScript, strings.Join(r.namespaces, " ")))
}

func (r *runner) shell(ctx context.Context, parallelism int) (measure, error) {
	return r.script(ctx, "shell", fmt.Sprintf(shellScript, strings.Join(r.namespaces, " "), parallelism))
}

// podRestart runs the module binary as Ansible would: `pod_restart <args file>`.
func (r *runner) podRestart(ctx context.Context, parallelism int) (measure, error) {
	args, err := json.Marshal(map[string]any{
		"namespaces": r.namespaces, "strategy": "all", "parallelism": parallelism,
		"kubeconfig": r.kubeconfig, "timeout": 300, "total_timeout": 3600,
	})
	if err != nil {
		return measure{}, err
	}
	path := filepath.Join(r.dir, "args.json")
	if err := os.WriteFile(path, args, 0o600); err != nil {
		return measure{}, err
	}
	cmd := exec.CommandContext(ctx, r.module, path)
	var out bytes.Buffer
	cmd.Stdout = &out
	m, err := r.exec(ctx, cmd)
	if err != nil {
		return m, fmt.Errorf("%w: %s", err, tail(out.String()))
	}
	var res struct {
		Failed bool `json:"failed"`
		Msg    string
		Totals struct{ Restarted int }
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Failed {
		return m, fmt.Errorf("pod_restart failed (%v): %s", err, tail(out.String()))
	}
	return m, nil
}

func (r *runner) exec(ctx context.Context, cmd *exec.Cmd) (measure, error) {
	cmd.Env = r.env()
	if cmd.Stdout == nil {
		cmd.Stdout = new(bytes.Buffer)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	u, err := proctree.Run(cmd)
	m := measure{wall: u.Wall, rssKB: u.MaxRSSKB, treeKB: u.TreeRSSKB}
	if cmd.ProcessState != nil {
		m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() // includes waited-for children
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, tail(stderr.String()))
	}
	return m, nil
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 600 {
		return "…" + s[len(s)-600:]
	}
	return s
}
