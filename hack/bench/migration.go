package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/lab"
	"github.com/cnimigrate/cnimigrate/internal/playbook"
)

// migrationTimeout bounds one migration playbook run.
const migrationTimeout = 30 * time.Minute

// benchMigration runs the product as users run it — ansible-playbook playbooks/site.yml --tags cni
// -e cni_provider=cilium — on a fresh default lab (3 nodes, calico.yaml, the ML workloads, node
// hosts over SSH) per strategy, and reads the phase times the migration recorded in the cluster.
// On the first lab it also measures the per-task overhead of a binary module over SSH.
func benchMigration(ctx context.Context, o *options, t *table) error {
	for i, strategy := range []string{"replace", "live"} {
		if err := o.migrateOnce(ctx, t, strategy, i == 0); err != nil {
			t.fail(secMigration, "migration, strategy "+strategy, err)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

func (o *options) migrateOnce(ctx context.Context, t *table, strategy string, overhead bool) error {
	o.progress("migration: strategy %s on a fresh 3-node lab", strategy)
	cfg := lab.Defaults()
	cfg.Name = "bench-mig-" + strategy
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
		"cnimigrate_artifacts_dir": filepath.Join(o.tmp, "artifacts-"+strategy),
	}
	logPath := filepath.Join(filepath.Dir(o.out), "bench-migration-"+strategy+".log")
	pctx, cancel := context.WithTimeout(ctx, migrationTimeout)
	defer cancel()
	o.progress("migration: ansible-playbook playbooks/site.yml --tags cni -e cni_provider=cilium -e cnimigrate_strategy=%s (log %s)", strategy, logPath)
	r := o.runPlaybook(pctx, playbook.Params{
		Dir: o.repo, Inventory: l.InventoryPath(), Playbook: "playbooks/site.yml", Tags: []string{"cni"},
		ExtraVars: vars, Library: []string{o.library},
	}, logPath)
	o.progress("migration: %s took %s (error: %v)", strategy, r.wall.Round(time.Second), r.err)
	state, serr := o.migrationState(ctx, l)
	addMigrationRows(t, strategy, r, state, serr, logPath)
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

func addMigrationRows(t *table, strategy string, r ansibleRun, state map[string]any, stateErr error, logPath string) {
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
		what: fmt.Sprintf("migration, strategy %s (3 nodes, calico.yaml, ML workloads): site.yml --tags cni, wall time", strategy),
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
