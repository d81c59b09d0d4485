package migration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// nodeState is what one node holds, as read over Ansible (SSH on the lab, docker on kind).
type nodeState map[string]string // task name suffix → stdout

// readNodes runs testdata/node-state.yml and returns each node's state by host name.
func (m *migration) readNodes(ctx context.Context, t *testing.T) map[string]nodeState {
	t.Helper()
	res, err := m.run(ctx, t, "e2e/migration/testdata/node-state.yml", nil)
	if err != nil {
		t.Fatalf("read node state: %v", err)
	}
	out := map[string]nodeState{}
	for _, p := range res.Plays {
		for _, task := range p.Tasks {
			key := strings.TrimPrefix(task.Name, "Node state | ")
			for host, hr := range task.Hosts {
				if out[host] == nil {
					out[host] = nodeState{}
				}
				s, _ := hr.Result["stdout"].(string)
				out[host][key] = s
			}
		}
	}
	if len(out) != len(m.cluster.nodes) {
		t.Fatalf("node state read from %d hosts, the cluster has %d nodes", len(out), len(m.cluster.nodes))
	}
	return out
}

// calicoLeftovers lists every trace of Calico in one node's state; empty means clean.
func calicoLeftovers(s nodeState) []string {
	var out []string
	for _, f := range lines(s["List CNI config files"]) {
		if strings.Contains(f, "calico") {
			out = append(out, "CNI config "+f)
		}
	}
	for _, f := range lines(s["List CNI binaries"]) {
		if f == "calico" || f == "calico-ipam" {
			out = append(out, "CNI binary "+f)
		}
	}
	for _, f := range lines(s["List Calico state directories"]) {
		out = append(out, "state "+f)
	}
	for _, l := range lines(s["List links"]) {
		if name := linkName(l); strings.HasPrefix(name, "cali") || name == "vxlan.calico" || name == "tunl0" ||
			strings.HasSuffix(name, ".cali") {
			out = append(out, "link "+name)
		}
	}
	for _, r := range lines(s["List routes"]) {
		if strings.Contains(r, "proto bird") || strings.Contains(r, "vxlan.calico") {
			out = append(out, "route "+r)
		}
	}
	for _, r := range lines(s["Dump iptables rules of both backends"]) {
		if strings.Contains(r, "cali-") || strings.Contains(r, "cali:") {
			out = append(out, "iptables "+r)
		}
	}
	for _, set := range lines(s["List ipsets"]) {
		if strings.HasPrefix(set, "cali") {
			out = append(out, "ipset "+set)
		}
	}
	return out
}

// linkName extracts the name from a line of `ip -o link show` ("3: cali1234@if2: <...").
func linkName(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
	return name
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// recapChanged sums "changed" over every host of a run's recap.
func recapChanged(res *playbook.Result) (int, string) {
	total := 0
	var per []string
	for host, r := range res.Stats {
		total += r.Changed
		if r.Changed > 0 {
			per = append(per, fmt.Sprintf("%s changed=%d", host, r.Changed))
		}
	}
	return total, strings.Join(per, ", ")
}
