package k8s

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestIsTransient(t *testing.T) {
	t.Parallel()
	pods := schema.GroupResource{Resource: "pods"}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"PDB refusal (429)", apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0), true},
		{"internal error (500)", apierrors.NewInternalError(errors.New("etcdserver: leader changed")), true},
		{"unavailable (503)", apierrors.NewServiceUnavailable("apiserver is shutting down"), true},
		{"gateway timeout (504)", apierrors.NewTimeoutError("request did not complete within 60s", 0), true},
		{"server timeout", apierrors.NewServerTimeout(pods, "create", 1), true},
		{"bad gateway (502)", apierrors.NewGenericServerResponse(502, "post", pods, "p", "", 0, true), true},
		{"no answer in time", &url.Error{Op: "Post", URL: "https://k/eviction", Err: &NoAnswerError{Method: "POST", Path: "/eviction"}}, true},
		{"connection refused", &url.Error{Op: "Post", URL: "https://k", Err: syscall.ECONNREFUSED}, true},
		{"connection cut", &url.Error{Op: "Post", URL: "https://k", Err: io.ErrUnexpectedEOF}, true},
		{"not found", apierrors.NewNotFound(pods, "p"), false},
		{"forbidden", apierrors.NewForbidden(pods, "p", errors.New("RBAC")), false},
		{"invalid", apierrors.NewBadRequest("bad"), false},
		{"other", fmt.Errorf("decode: %w", errors.New("garbage")), false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		if got := IsTransient(c.err); got != c.want {
			t.Errorf("%s: IsTransient(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
