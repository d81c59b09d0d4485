package k8s

import (
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// IsTransient reports whether err is one a busy or restarting API server gives and the same
// request may later succeed: 429 (throttled, or a PodDisruptionBudget refusing an eviction for
// now), 500, 502, 503, 504, the server's own timeouts, a request that got no answer in time, and a
// connection refused, reset or cut short. Not found, conflicts, invalid or forbidden requests are
// not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		switch status.Status().Code {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
	}
	var na *NoAnswerError
	return errors.As(err, &na) || utilnet.IsTimeout(err) || utilnet.IsConnectionRefused(err) ||
		utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) || utilnet.IsHTTP2ConnectionLost(err)
}
