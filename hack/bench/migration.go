package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// migrationTimeout bounds one migration playbook run on 3 nodes; on more, 15 s more per node (the
// live strategy moves them one at a time, ~10 s each here).
const migrationTimeout = 30 * time.Minute

// benchMigration runs the product as users run it — ansible-playbook playbooks/site.yml --tags cni
// -e cni_provider=cilium — on a fresh default lab (3 nodes, calico.yaml, the ML workloads, node
// hosts over SSH) per strategy, and reads the phase times the migration recorded in the cluster.
// On the first lab it also measures the per-task overhead of a binary module over SSH.
//
// With -large it also migrates a 100-node lab with ~2,000 pods with each strategy (Ansible forks 20,
// as a team would set for that many nodes; live moves one node at a time, so it takes about its
// per-node time × 100).
func benchMigration(ctx context.Context, o *options, t *table) error {
	runs := []migrationShape{{strategy: "replace", nodes: 3}, {strategy: "live", nodes: 3}}
	if o.large {
		runs = append(runs, migrationShape{strategy: "replace", nodes: 100, extraPods: 2000 - 100 - 25, forks: 20},
			migrationShape{strategy: "live", nodes: 100, extraPods: 2000 - 100 - 25, forks: 20})
	}
	only := map[string]bool{}
	for _, k := range strings.Split(o.migrations, ",") {
		if k = strings.TrimSpace(k); k != "" {
			only[k] = true
		}
	}
	first := true
	for _, sh := range runs {
		if len(only) > 0 && !only[sh.key()] {
			continue
		}
		overhead := first && sh.nodes == 3
		first = false
		if err := o.migrateOnce(ctx, t, sh, overhead); err != nil {
			t.fail(secMigration, "migration, "+sh.String(), err)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

// migrationShape is one measured migration: the strategy and the lab it runs on.
type migrationShape struct {
	strategy         string
	nodes, extraPods int
	forks            int // Ansible forks; 0: ansible.cfg's
}

func (sh migrationShape) String() string {
	s := fmt.Sprintf("strategy %s (%d nodes, calico.yaml, ML workloads", sh.strategy, sh.nodes)
	if sh.extraPods > 0 {
		s += fmt.Sprintf(" + %d more pods", sh.extraPods)
	}
	if sh.forks > 0 {
		s += fmt.Sprintf(", forks %d", sh.forks)
	}
	return s + ")"
}

func (sh migrationShape) key() string {
	if sh.nodes == 3 {
		return sh.strategy
	}
	return fmt.Sprintf("%s%d", sh.strategy[:4], sh.nodes) // lab names are at most 20 characters
}

func (o *options) migrateOnce(ctx context.Context, t *table, sh migrationShape, overhead bool) error {
	strategy := sh.strategy
	o.progress("migration: %s on a fresh lab", sh)
	cfg := lab.Defaults()
	cfg.Name = "bench-mig-" + sh.key()
	cfg.Servers, cfg.Agents, cfg.ExtraPods = 1, sh.nodes-1, sh.extraPods
	l, _, err := o.startLab(ctx, cfg)
	if err != nil {
		return err
	}
	defer o.stopLab(l)
	if overhead {
		if err := o.taskOverhead(ctx, t, l); err != nil {
			t.fail(secMigration, "per-task overhead over SSH", err)
		}
	}
	// As users run it; the lab's inventory carries what makes it a lab (the air-gapped chart, the
	// API-only verification, policies Cilium cannot express reported rather than fatal).
	vars := map[string]any{
		"cni_provider": "cilium", "cluster_state": "present", "cnimigrate_strategy": strategy,
		"cnimigrate_artifacts_dir": filepath.Join(o.tmp, "artifacts-"+sh.key()),
	}
	env := map[string]string{}
	if sh.forks > 0 {
		env["ANSIBLE_FORKS"] = fmt.Sprint(sh.forks)
	}
	logPath := filepath.Join(filepath.Dir(o.out), "bench-migration-"+sh.key()+".log")
	pctx, cancel := context.WithTimeout(ctx, migrationTimeout+time.Duration(sh.nodes)*15*time.Second)
	defer cancel()
	o.progress("migration: ansible-playbook playbooks/site.yml --tags cni -e cni_provider=cilium -e cnimigrate_strategy=%s (log %s)", strategy, logPath)
	r := o.runPlaybook(pctx, playbook.Params{
		Dir: o.repo, Inventory: l.InventoryPath(), Playbook: "playbooks/site.yml", Tags: []string{"cni"},
		ExtraVars: vars, Library: []string{o.library}, Env: env,
	}, logPath)
	o.progress("migration: %s took %s (error: %v)", strategy, r.wall.Round(time.Second), r.err)
	state, serr := o.migrationState(ctx, l)
	addMigrationRows(t, sh, r, state, serr, logPath)
	return nil
}

// migrationState reads the record the migration keeps in the cluster, with our own module.
func (o *options) migrationState(ctx context.Context, l *lab.Lab) (map[string]any, error) {
	args, err := writeArgs(o.tmp, "state-get", map[string]any{"state": "get", "kubeconfig": l.Kubeconfig()})
	if err != nil {
		return nil, err
	}
	m, err := runModule(ctx, kubernetes.NewForConfigOrDie(l.RESTConfig()), "migration_state", nil,
		filepath.Join(o.library, "migration_state"), args)
	return m.result, err
}

func addMigrationRows(t *table, sh migrationShape, r ansibleRun, state map[string]any, stateErr error, logPath string) {
	strategy := sh.key()
	outcome := "completed"
	if r.err != nil {
		outcome = "FAILED: " + oneLine(r.err.Error())
	}
	recap := ""
	if r.result != nil {
		recap = "; recap " + r.result.Totals().String()
	}
	var roles []string
	for _, rs := range byRole(r.tasks) {
		if rs.seconds >= 0.5 {
			roles = append(roles, fmt.Sprintf("%s %s", orDash(rs.role), secs(rs.seconds)))
		}
	}
	var slow []string
	for _, s := range slowest(r.tasks, 3) {
		slow = append(slow, fmt.Sprintf("%q %s", s.Name, secs(s.seconds())))
	}
	t.add(secMigration, row{
		what: fmt.Sprintf("migration, %s: site.yml --tags cni, wall time", sh),
		ours: secs(r.wall.Seconds()), anchor: "—", ratio: "—",
		note: fmt.Sprintf("%s%s; 1 run on a fresh lab; %d tasks; time by role: %s; slowest tasks: %s; Ansible log %s",
			outcome, recap, len(r.tasks), strings.Join(roles, ", "), strings.Join(slow, ", "), logPath),
	})
	if stateErr != nil {
		t.fail(secMigration, "  phases ("+strategy+")", fmt.Errorf("reading kube-system/cnimigrate-state: %w", stateErr))
		return
	}
	phases, _ := state["phases"].([]any)
	if len(phases) == 0 {
		t.add(secMigration, row{what: "  phases (" + strategy + ")", ours: "none recorded", anchor: "—", ratio: "—",
			note: "kube-system/cnimigrate-state holds no phase"})
	}
	for _, p := range phases {
		ph, _ := p.(map[string]any)
		d, ok := ph["duration_seconds"].(float64)
		val, note := secs(d), fmt.Sprintf("started %v, attempts %v", ph["started_at"], ph["attempts"])
		if !ok {
			val, note = "unfinished", note+"; not completed"
		} else if d == 0 {
			val = "0 s"
		}
		t.add(secMigration, row{what: fmt.Sprintf("  phase %v (%s)", ph["name"], strategy), ours: val, anchor: "—", ratio: "—", note: note})
	}
	if total, ok := state["total_seconds"].(float64); ok {
		t.add(secMigration, row{what: "  phases, first start → last completion (" + strategy + ")", ours: secs(total), anchor: "—", ratio: "—",
			note: fmt.Sprintf("from kube-system/cnimigrate-state (migration_state); phase reached: %v", state["phase"])})
	}
}

func orDash(s string) string {
	if s == "" {
		return "(no role)"
	}
	return s
}
