package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/hack/bench/internal/proctree"
)

// moduleRun is one module invocation: what it cost and what it answered.
type moduleRun struct {
	proctree.Usage
	apiRequests float64
	result      map[string]any
}

func (m moduleRun) changed() bool { b, _ := m.result["changed"].(bool); return b }

// runModule runs a module process the way Ansible runs it on a target (argv = the command, its
// last argument the args file), counts the API server's requests meanwhile, and decodes its JSON.
// A module that reports failed is an error.
func runModule(ctx context.Context, kube kubernetes.Interface, name string, env []string, argv ...string) (moduleRun, error) {
	before, err := apiRequests(ctx, kube)
	if err != nil {
		return moduleRun{}, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Env = &stdout, &stderr, append(os.Environ(), env...)
	u, runErr := proctree.Run(cmd)
	m := moduleRun{Usage: u}
	after, err := apiRequests(ctx, kube)
	if err != nil {
		return m, err
	}
	m.apiRequests = after - before
	if jerr := json.Unmarshal(lastJSON(stdout.Bytes()), &m.result); jerr != nil {
		return m, fmt.Errorf("%s: %v; no JSON result (%v): %s %s", name, runErr, jerr, tail(stdout.String()), tail(stderr.String()))
	}
	if failed, _ := m.result["failed"].(bool); failed || runErr != nil {
		return m, fmt.Errorf("%s failed (%v): %v", name, runErr, m.result["msg"])
	}
	return m, nil
}

// lastJSON is the module's JSON object: Python modules may print warnings before it.
func lastJSON(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.Index(b, []byte("\n{")); i >= 0 && !bytes.HasPrefix(b, []byte("{")) {
		return b[i+1:]
	}
	return b
}

// writeArgs writes a module args file into dir and returns its path.
func writeArgs(dir, name string, args any) (string, error) {
	data, err := json.Marshal(args)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".json")
	return path, os.WriteFile(path, data, 0o600)
}

// apiRequests sums apiserver_request_total over all labels, from the API server's /metrics.
func apiRequests(ctx context.Context, kube kubernetes.Interface) (float64, error) {
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the API server's /metrics: %w", err)
	}
	var total float64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			total += v
		}
	}
	return total, sc.Err()
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 500 {
		return "…" + s[len(s)-500:]
	}
	return s
}
