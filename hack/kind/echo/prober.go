package main

// The disruption prober: `echo prober` runs in a pod of the kind tier (one per node, a DaemonSet)
// through a whole migration and sends, each at a fixed rate, requests to
//   - a Service with replicas on several nodes (by its ClusterIP, from the Service's environment
//     variables, so DNS is not part of this target),
//   - the echo pods on other nodes, by pod IP (pod to pod across nodes; the pods and their nodes
//     come from the API server, refreshed every 2 s, the last answer kept while it does not answer),
//   - cluster DNS (the Service's fully qualified name, with its trailing dot: one query per
//     lookup and address family, not one per search domain of the pod's resolv.conf),
//   - a control: an HTTP server inside the prober itself, on loopback, with the same timeout. No
//     packet of it crosses a CNI: when it fails, the client or its node was starved of CPU at that
//     moment, and failures of the other targets in that second say nothing about the datapath.
// Every second it prints one JSON line per target: requests sent and failed, and the last error.
// The e2e suite follows these lines with `kubectl logs -f` and sums them per second.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tally is one target's counts in the current second.
type tally struct {
	sent, failed int
	lastErr      string
}

// line is what the prober prints per target and second.
type line struct {
	Time    int64  `json:"t"`
	Node    string `json:"node"`
	Pod     string `json:"pod"`
	Target  string `json:"target"`
	To      string `json:"to,omitempty"` // pod-to-pod: the destination node
	Sent    int    `json:"sent"`
	Failed  int    `json:"failed"`
	LastErr string `json:"err,omitempty"`
}

type prober struct {
	node, pod string
	mu        sync.Mutex
	counts    map[[2]string]*tally // target, destination node
	peersMu   sync.Mutex
	peers     map[string]string // pod IP -> node
}

func (p *prober) record(target, to string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := [2]string{target, to}
	t := p.counts[k]
	if t == nil {
		t = &tally{}
		p.counts[k] = t
	}
	t.sent++
	if err != nil {
		t.failed++
		t.lastErr = err.Error()
	}
}

func (p *prober) flush(now time.Time, w io.Writer) {
	p.mu.Lock()
	counts := p.counts
	p.counts = map[[2]string]*tally{}
	p.mu.Unlock()
	enc := json.NewEncoder(w)
	for k, t := range counts {
		_ = enc.Encode(line{Time: now.Unix(), Node: p.node, Pod: p.pod, Target: k[0], To: k[1],
			Sent: t.sent, Failed: t.failed, LastErr: t.lastErr})
	}
}

func runProber(args []string) {
	fs := flag.NewFlagSet("prober", flag.ExitOnError)
	rate := fs.Int("rate", 10, "requests per second to each target")
	service := fs.String("service", "prober-echo", "Service to request (its ClusterIP from the environment) and resolve")
	selector := fs.String("pods", "app=prober-echo", "label selector of the echo pods requested by pod IP")
	port := fs.Int("port", 8080, "HTTP port of the Service and the echo pods")
	timeout := fs.Duration("timeout", time.Second, "timeout of one request")
	control := fs.Int("control-port", 8081, "loopback port of the prober's own control server")
	_ = fs.Parse(args)

	ns, _ := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	p := &prober{node: os.Getenv("NODE_NAME"), pod: os.Getenv("POD_NAME"), counts: map[[2]string]*tally{}, peers: map[string]string{}}
	env := strings.ToUpper(strings.ReplaceAll(*service, "-", "_"))
	svcIP := os.Getenv(env + "_SERVICE_HOST")
	if svcIP == "" {
		fmt.Fprintf(os.Stderr, "prober: %s_SERVICE_HOST is not set: create Service %s before the prober\n", env, *service)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(url string) error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	}
	resolver := &net.Resolver{PreferGo: true}
	fqdn := fmt.Sprintf("%s.%s.svc.cluster.local.", *service, strings.TrimSpace(string(ns)))
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", fmt.Sprint(*control)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "prober: control server: %v\n", err)
		os.Exit(2)
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }))
	}()

	every := time.Second / time.Duration(*rate)
	var wg sync.WaitGroup
	loop := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					go f()
				}
			}
		}()
	}
	loop(func() { p.record("service", "", get(fmt.Sprintf("http://%s:%d/", svcIP, *port))) })
	loop(func() {
		err := get(fmt.Sprintf("http://127.0.0.1:%d/", *control))
		if ctx.Err() == nil {
			p.record("control", "", err)
		}
	})
	loop(func() {
		c, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		addrs, err := resolver.LookupHost(c, fqdn)
		if err == nil && len(addrs) == 0 {
			err = fmt.Errorf("%s: no address", fqdn)
		}
		if ctx.Err() == nil {
			p.record("dns", "", err)
		}
	})
	loop(func() {
		p.peersMu.Lock()
		var ip, node string
		for i, n := range p.peers { // one peer per tick, any on another node (map order varies)
			if n != p.node {
				ip, node = i, n
				break
			}
		}
		p.peersMu.Unlock()
		if ip == "" {
			return // no echo pod on another node known yet: nothing to count
		}
		err := get(fmt.Sprintf("http://%s/", net.JoinHostPort(ip, fmt.Sprint(*port))))
		if ctx.Err() == nil {
			p.record("pod-to-pod", node, err)
		}
	})
	wg.Add(1)
	go func() { // the echo pods and their nodes, from the API server
		defer wg.Done()
		for {
			if peers, err := listPods(ctx, strings.TrimSpace(string(ns)), *selector); err == nil {
				p.peersMu.Lock()
				p.peers = peers
				p.peersMu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			p.flush(now, os.Stdout)
		case <-ctx.Done():
			// Terminating: what was counted so far, then stop (requests cut off by our own
			// termination are not the datapath's failures).
			p.flush(time.Now(), os.Stdout)
			return
		}
	}
}

// listPods returns the running pods' IPs and nodes for a label selector, from the API server with
// the pod's service account.
func listPods(ctx context.Context, ns, selector string) (map[string]string, error) {
	const sa = "/var/run/secrets/kubernetes.io/serviceaccount/"
	token, err := os.ReadFile(sa + "token")
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(sa + "ca.crt")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := fmt.Sprintf("https://%s/api/v1/namespaces/%s/pods?labelSelector=%s",
		net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")), ns, selector)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list pods: HTTP %d", resp.StatusCode)
	}
	var list struct {
		Items []struct {
			Spec   struct{ NodeName string }
			Status struct {
				Phase, PodIP string
				Conditions   []struct{ Type, Status string }
			}
			Metadata struct {
				DeletionTimestamp *string
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	peers := map[string]string{}
	for _, it := range list.Items {
		ready := false
		for _, c := range it.Status.Conditions {
			ready = ready || (c.Type == "Ready" && c.Status == "True")
		}
		if ready && it.Status.PodIP != "" && it.Metadata.DeletionTimestamp == nil {
			peers[it.Status.PodIP] = it.Spec.NodeName
		}
	}
	return peers, nil
}
