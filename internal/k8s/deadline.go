package k8s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"time"

	"k8s.io/client-go/rest"
)

// NoAnswerError is the error of a request the API server did not answer within its deadline. It
// names the request, so a stuck API server fails a module with what it was waiting for instead of
// hanging it.
type NoAnswerError struct {
	Method, Path string
	After        time.Duration
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("the Kubernetes API server did not answer %s %s within %s", e.Method, e.Path, e.After)
}

// Timeout marks it as a timeout for net.Error checks; Unwrap lets errors.Is(err,
// context.DeadlineExceeded) hold.
func (e *NoAnswerError) Timeout() bool   { return true }
func (e *NoAnswerError) Temporary() bool { return true }
func (e *NoAnswerError) Unwrap() error   { return context.DeadlineExceeded }

// BoundRequests gives every request made with cfg a deadline of timeout (a caller's shorter
// deadline still wins). Long-running requests are left alone: watches, followed logs and upgraded
// connections (exec, attach, port-forward) last as long as their caller's context.
func BoundRequests(cfg *rest.Config, timeout time.Duration) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &deadlineTransport{next: rt, timeout: timeout}
	})
}

type deadlineTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (d *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if longRunning(req) {
		return d.next.RoundTrip(req)
	}
	cause := &NoAnswerError{Method: req.Method, Path: req.URL.Path, After: d.timeout}
	ctx, cancel := context.WithTimeoutCause(req.Context(), d.timeout, cause)
	resp, err := d.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		err = explain(ctx, err)
		cancel()
		return nil, err
	}
	// The deadline covers reading the body too: it ends when the body is closed.
	resp.Body = &boundBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel}
	return resp, nil
}

// explain replaces a transport error caused by our deadline with the error naming the request.
func explain(ctx context.Context, err error) error {
	var na *NoAnswerError
	if errors.As(context.Cause(ctx), &na) {
		return na
	}
	return err
}

type boundBody struct {
	io.ReadCloser
	ctx    context.Context
	cancel context.CancelFunc
}

func (b *boundBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = explain(b.ctx, err)
	}
	return n, err
}

func (b *boundBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// longRunning reports whether a request streams for as long as its caller wants.
func longRunning(req *http.Request) bool {
	q := req.URL.Query()
	if w := q.Get("watch"); w == "true" || w == "1" {
		return true
	}
	if q.Get("follow") == "true" || req.Header.Get("Upgrade") != "" {
		return true
	}
	switch path.Base(req.URL.Path) {
	case "exec", "attach", "portforward":
		return true
	}
	return false
}
