package k8s

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// hangGuard is how long a test waits for a call that must fail before declaring that it hangs.
const hangGuard = 30 * time.Second

// stuckAPIServer answers nothing but watches: every other request hangs until the test ends, like
// an API server whose etcd stopped answering. A watch gets its first event after twice the client's
// deadline, so a watch cut by the deadline shows.
func stuckAPIServer(t *testing.T, deadline time.Duration) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-time.After(2 * deadline):
			case <-done:
				return
			}
			fmt.Fprintln(w, `{"type":"ADDED","object":{"kind":"Node","apiVersion":"v1","metadata":{"name":"agent-1"}}}`)
			w.(http.Flusher).Flush()
			<-done
			return
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func TestRequestsToAStuckAPIServerFailNamingTheRequest(t *testing.T) {
	const deadline = 200 * time.Millisecond
	srv := stuckAPIServer(t, deadline)
	c, err := fromConfig(&rest.Config{Host: srv.URL}, "test", deadline)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Kube.CoreV1().Nodes().Get(context.Background(), "agent-1", metav1.GetOptions{})
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Logf("error: %v", err)
		var na *NoAnswerError
		if err == nil || !errors.As(err, &na) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a NoAnswerError", err)
		}
		for _, want := range []string{"did not answer", "GET /api/v1/nodes/agent-1", "within 200ms"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	case <-time.After(hangGuard):
		t.Fatalf("reading a node from a stuck API server still hangs after %s: the request has no deadline", hangGuard)
	}
}

func TestWatchesOutliveTheRequestDeadline(t *testing.T) {
	const deadline = 200 * time.Millisecond
	srv := stuckAPIServer(t, deadline)
	c, err := fromConfig(&rest.Config{Host: srv.URL}, "test", deadline)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	w, err := c.Kube.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	defer w.Stop()
	ev, ok := <-w.ResultChan()
	if !ok || ev.Type != "ADDED" {
		t.Fatalf("watch ended before its first event (%v, %+v): the request deadline cut it", ok, ev)
	}
}

func TestLongRunning(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]bool{
		"https://k/api/v1/nodes/agent-1":                             false,
		"https://k/api/v1/pods?labelSelector=a%3Db":                  false,
		"https://k/api/v1/pods?watch=true&resourceVersion=1":         true,
		"https://k/api/v1/namespaces/a/pods/p/log?follow=true":       true,
		"https://k/api/v1/namespaces/a/pods/p/log":                   false,
		"https://k/api/v1/namespaces/a/pods/p/exec?command=ping":     true,
		"https://k/api/v1/namespaces/a/pods/p/portforward":           true,
		"https://k/apis/policy/v1/namespaces/a/pods/p/eviction":      false,
		"https://k/apis/apps/v1/namespaces/a/deployments?watch=1":    true,
		"https://k/apis/coordination.k8s.io/v1/namespaces/a/leases/": false,
	} {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := longRunning(req); got != want {
			t.Errorf("longRunning(%s) = %v, want %v", url, got, want)
		}
	}
}
