package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

// Executor runs a command in a pod's container and returns what it printed. A non-zero exit of
// the command is not an error (probes read the tools' own exit codes from the output); an error
// means the command could not be run.
type Executor interface {
	Exec(ctx context.Context, namespace, pod, container string, command []string) (stdout, stderr string, err error)
}

// PodExecutor runs commands through the pods/exec subresource (WebSocket, falling back to SPDY, as
// kubectl exec does). The API server hands the stream to the kubelet; nothing here connects to a
// pod or Service address.
type PodExecutor struct {
	Config *rest.Config
	Kube   kubernetes.Interface
}

// Exec implements Executor.
func (e *PodExecutor) Exec(ctx context.Context, namespace, pod, container string, command []string) (string, string, error) {
	req := e.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).
		SubResource("exec").VersionedParams(&corev1.PodExecOptions{
		Container: container, Command: command, Stdout: true, Stderr: true,
	}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(e.Config, "GET", req.URL().String())
	if err != nil {
		return "", "", fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(e.Config, "POST", req.URL())
	if err != nil {
		return "", "", fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return "", "", fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	var exit utilexec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return stdout.String(), stderr.String(), fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
	}
	return stdout.String(), stderr.String(), nil
}
