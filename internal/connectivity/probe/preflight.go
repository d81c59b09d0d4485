package probe

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// toolkit is what the preflight exec found in a client pod.
type toolkit struct {
	Real          bool   // a real shell answered
	Reason        string // why not, when !Real
	Tools         map[string]bool
	CurlVersion   string
	ClusterDomain string
}

// preflight execs once into a client pod to prove that exec runs the image's tools. A fake
// runtime (kwok) answers exec itself: it cannot echo a token it has never seen.
func preflight(ctx context.Context, cfg Config, ns string, client Pod) (toolkit, error) {
	token := cfg.Token
	if token == "" {
		token = utilrand.String(12)
	}
	stdout, stderr, err := cfg.Exec.Exec(ctx, ns, client.Name, clientCtr, PreflightCommand(token))
	if err != nil {
		return toolkit{}, fmt.Errorf("exec into client pod %s on %s: %w", client.Name, client.Node, err)
	}
	kit := parsePreflight(stdout, token)
	if !kit.Real {
		answer := strings.TrimSpace(stdout + stderr)
		if len(answer) > 200 {
			answer = answer[:200] + "…"
		}
		kit.Reason = fmt.Sprintf("probes need real pods: exec into %s on %s did not run a shell (it answered %q)",
			client.Name, client.Node, answer)
	}
	return kit, nil
}

func parsePreflight(out, token string) toolkit {
	kit := toolkit{Tools: map[string]bool{}, ClusterDomain: defaults.ConnectivityClusterDomain}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		switch {
		case line == execOKPrefix+token:
			kit.Real = true
		case strings.HasPrefix(line, toolMarker+" ") && len(f) == 2:
			kit.Tools[f[1]] = true
		case strings.HasPrefix(line, "curl ") && len(f) >= 2 && kit.CurlVersion == "":
			kit.CurlVersion = f[1]
		case strings.HasPrefix(line, "search "):
			for _, d := range f[1:] {
				if strings.HasPrefix(d, "svc.") {
					kit.ClusterDomain = strings.TrimSuffix(strings.TrimPrefix(d, "svc."), ".")
					break
				}
			}
		}
	}
	return kit
}

// curlTooOld reports whether version is older than what --write-out's %{exitcode} needs.
func curlTooOld(version string) bool {
	var v [3]int
	for i, p := range strings.SplitN(version, ".", 3) {
		n, err := strconv.Atoi(strings.TrimRightFunc(p, func(r rune) bool { return r < '0' || r > '9' }))
		if err != nil {
			return true
		}
		v[i] = n
	}
	for i := range v {
		if v[i] != minCurl[i] {
			return v[i] < minCurl[i]
		}
	}
	return false
}

// missingTool says why a probe needing tool cannot run with this client image, or "".
func (k toolkit) missingTool(tool string) string {
	if !k.Tools[tool] {
		return fmt.Sprintf("the client image has no %s; set images.client to an image that has curl, dig, ping and iperf3", tool)
	}
	if tool == "curl" && curlTooOld(k.CurlVersion) {
		return fmt.Sprintf("the client image's curl %s is older than 7.75 (needed for --write-out %%{exitcode}); set images.client", k.CurlVersion)
	}
	return ""
}
