package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// overheadTasks is how many times each task runs in the per-task overhead playbook.
const overheadTasks = 7

// taskOverhead times one of our binary modules (migration_state state=get, a trivial call) against
// ansible.builtin.command: true as tasks over the same SSH connection to a node host, interleaved,
// after a warm-up task has opened the SSH control master.
func (o *options) taskOverhead(ctx context.Context, t *table, l *lab.Lab) error {
	host := ""
	for _, n := range l.Nodes() {
		if n.Role == lab.RoleServer {
			host = n.Name
			break
		}
	}
	if host == "" {
		return fmt.Errorf("the lab has no server node")
	}
	book := filepath.Join(o.tmp, "overhead.yml")
	if err := os.WriteFile(book, []byte(overheadPlaybook(host, overheadTasks)), 0o644); err != nil {
		return err
	}
	o.progress("per-task overhead: %d × migration_state and cni_node_cleanup vs %d × command: true on %s over SSH", overheadTasks, overheadTasks, host)
	r := o.runPlaybook(ctx, playbook.Params{Dir: o.repo, Inventory: l.InventoryPath(), Playbook: book,
		Library: []string{o.library}}, filepath.Join(o.tmp, "overhead.log"))
	if r.err != nil {
		return r.err
	}
	times := map[string][]float64{}
	for _, task := range r.tasks {
		if kind, _, ok := strings.Cut(task.Name, " #"); ok {
			times[kind] = append(times[kind], task.seconds())
		}
	}
	local, err := o.localRuns(ctx, l)
	if err != nil {
		return err
	}
	ours, anchor := median(times["migration_state"]), median(times["command"])
	bin := filepath.Join(o.library, "migration_state")
	t.add(secMigration, row{
		what: "per task over SSH: migration_state state=get (binary module) vs ansible.builtin.command: true",
		ours: secs(ours), anchor: secs(anchor), ratio: ratio(ours, anchor),
		note: fmt.Sprintf("median of %d tasks each, interleaved, same host (%s), SSH control master already open; all: ours %s, anchor %s; "+
			"the module alone (run here against the same API server, no SSH): %s, so copying the %s binary and the remote setup take ≈ %s; "+
			"builtin modules are pipelined (ansible.cfg), binary modules are copied on every task",
			len(times["migration_state"]), host, secsList(times["migration_state"]), secsList(times["command"]),
			secs(local), mb(fileSize(bin)), secs(ours-local)),
	})
	node := filepath.Join(o.library, "cni_node_cleanup")
	t.add(secMigration, row{
		what: "per task over SSH, node side: cni_node_cleanup in check mode (binary module) vs ansible.builtin.command: true",
		ours: secs(median(times["cni_node_cleanup"])), anchor: secs(anchor), ratio: ratio(median(times["cni_node_cleanup"]), anchor),
		note: fmt.Sprintf("median of %d tasks each, interleaved with the rows above, same host; the module plans the host's Calico "+
			"leftovers (links, routes, iptables of both backends, ipsets, files) and copies a %s binary, no Kubernetes client; all: %s",
			len(times["cni_node_cleanup"]), mb(fileSize(node)), secsList(times["cni_node_cleanup"])),
	})
	t.add(secMigration, row{
		what: "module binaries copied per task (this host's architecture)", ours: mb(fileSize(bin)) + " (migration_state)", anchor: "—", ratio: "—",
		note: moduleSizes(o.library),
	})
	return nil
}

func overheadPlaybook(host string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\n- name: Per-task overhead\n  hosts: %s\n  gather_facts: false\n  tasks:\n", host)
	b.WriteString("    - name: warm-up\n      ansible.builtin.command: \"true\"\n      changed_when: false\n")
	for i := range n {
		fmt.Fprintf(&b, "    - name: \"command #%d\"\n      ansible.builtin.command: \"true\"\n      changed_when: false\n", i+1)
		fmt.Fprintf(&b, "    - name: \"migration_state #%d\"\n      migration_state:\n        state: get\n", i+1)
		// The node-side module, as every node runs it: a plan of the host's Calico leftovers, no change.
		fmt.Fprintf(&b, "    - name: \"cni_node_cleanup #%d\"\n      cni_node_cleanup:\n        cni_conf_dir: [/etc/cni/net.d]\n"+
			"        cni_bin_dir: [/opt/cni/bin]\n      check_mode: true\n", i+1)
	}
	return b.String()
}

// localRuns is the median time of migration_state state=get run on this machine (no SSH).
func (o *options) localRuns(ctx context.Context, l *lab.Lab) (float64, error) {
	args, err := writeArgs(o.tmp, "state-get-local", map[string]any{"state": "get", "kubeconfig": l.Kubeconfig()})
	if err != nil {
		return 0, err
	}
	kube := kubernetes.NewForConfigOrDie(l.RESTConfig())
	var xs []float64
	for range overheadTasks {
		m, err := runModule(ctx, kube, "migration_state", nil, filepath.Join(o.library, "migration_state"), args)
		if err != nil {
			return 0, err
		}
		xs = append(xs, m.Wall.Seconds())
	}
	return median(xs), nil
}

// moduleSizes lists the size of every built module binary.
func moduleSizes(dir string) string {
	entries, _ := os.ReadDir(dir)
	type kv struct {
		name string
		size int64
	}
	var all []kv
	for _, e := range entries {
		n := e.Name()
		// The host's binaries (make build); make dist adds _linux_amd64/_linux_arm64 copies.
		if e.IsDir() || strings.Contains(n, ".") || strings.HasSuffix(n, "_linux_amd64") || strings.HasSuffix(n, "_linux_arm64") {
			continue
		}
		all = append(all, kv{n, fileSize(filepath.Join(dir, n))})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].size > all[j].size })
	var parts []string
	for _, m := range all {
		parts = append(parts, fmt.Sprintf("%s %s", m.name, mb(m.size)))
	}
	return "every module, as built by make build (-trimpath -s -w): " + strings.Join(parts, ", ")
}
