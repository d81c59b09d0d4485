package health

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// checkNodes fails when any node is not Ready, naming each with its Ready condition's reason.
func checkNodes(nodes []corev1.Node) result.Entry {
	e := entry(CheckNodes)
	var bad []string
	for _, n := range nodes {
		if ok, why := nodeReady(&n); !ok {
			bad = append(bad, n.Name+" "+why)
		}
	}
	sort.Strings(bad)
	e.Observed = fmt.Sprintf("%d/%d nodes Ready", len(nodes)-len(bad), len(nodes))
	if len(nodes) == 0 {
		return failed(e, "the cluster has no nodes")
	}
	if len(bad) > 0 {
		e = failed(e, "not Ready: "+strings.Join(limit(bad, 20), ", "))
		e.Details = bad
	}
	return e
}

// nodeReady reports whether the node's Ready condition is True, and otherwise why not.
func nodeReady(n *corev1.Node) (bool, string) {
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			return true, ""
		}
		why := fmt.Sprintf("(Ready=%s", c.Status)
		if c.Reason != "" {
			why += ", " + c.Reason
		}
		if c.Message != "" {
			why += ": " + c.Message
		}
		return false, why + ")"
	}
	return false, "(no Ready condition: the kubelet never reported)"
}
