package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"k8s.io/client-go/rest"
)

// countingProxy sits between one tool under test and the lab's API server: the tool talks plain
// HTTP to 127.0.0.1 without credentials, the proxy forwards with the lab's admin credentials and
// counts every request by verb. It measures exactly the tool's own requests, while the API server's
// metrics also include what the controllers did in response.
type countingProxy struct {
	srv    *http.Server
	addr   string
	mu     sync.Mutex
	counts map[string]int
}

func startProxy(cfg *rest.Config) (*countingProxy, error) {
	target, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("API server URL %q: %w", cfg.Host, err)
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("transport for the lab: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{addr: ln.Addr().String(), counts: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = rt
	rp.FlushInterval = -1 // watches stream
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// count classifies a request as the API server's metrics do (verb; WATCH for ?watch=true).
func (p *countingProxy) count(r *http.Request) {
	verb := r.Method
	if q := r.URL.Query(); q.Get("watch") == "true" || q.Get("watch") == "1" {
		verb = "WATCH"
	}
	p.mu.Lock()
	p.counts[verb]++
	p.mu.Unlock()
}

// take returns the counts since the last take and resets them.
func (p *countingProxy) take() (int, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	total := 0
	for _, n := range p.counts {
		total += n
	}
	out := p.counts
	p.counts = map[string]int{}
	return total, out
}

func (p *countingProxy) close() { _ = p.srv.Close() }

// writeKubeconfig writes a kubeconfig that points at the proxy.
func (p *countingProxy) writeKubeconfig(dir string) (string, error) {
	path := filepath.Join(dir, "proxy.kubeconfig")
	doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: "http://%s"}
users:
- name: admin
  user: {}
contexts:
- name: lab
  context: {cluster: lab, user: admin}
current-context: lab
`, p.addr)
	return path, os.WriteFile(path, []byte(doc), 0o600)
}
