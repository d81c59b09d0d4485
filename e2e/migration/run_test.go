package migration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// scenario is one way users migrate: a strategy on a Calico flavour.
type scenario struct {
	strategy string // replace | live
	flavour  string // manifest | operator
}

func (s scenario) name() string { return "e2e-" + s.strategy[:4] + "-" + s.flavour[:4] }

// migration is one scenario's run: the cluster, where Ansible leaves its artifacts on the
// controller, and what the playbook runs reported. Steps read it through their closures.
type migration struct {
	scenario
	cluster   *cluster
	artifacts string
	library   string
	root      string
	before    snapshot
	first     *playbook.Result
	firstErr  error
	// stopped is the run that stopped before Calico's node cleanup because pods no restart moves
	// were still on Calico (the default choice); the run after it chose to evict them.
	stopped    *playbook.Result
	stoppedErr error
	prober     *disruption // the kind tier's disruption prober, while it runs
}

// playbookTimeout bounds one ansible-playbook run of the suite. On the kind tier the probe pods,
// Cilium's BPF compilation and the workloads' restarts are real, and take their time on 2 cores.
var playbookTimeout = 15 * time.Minute

func init() {
	if os.Getenv("CNIMIGRATE_KIND") != "" {
		playbookTimeout = 40 * time.Minute
	}
}

// run runs a playbook against the scenario's cluster the way a user does, with the suite's
// artifact dir, and writes Ansible's screen output to the test log when the run failed.
func (m *migration) run(ctx context.Context, t *testing.T, book string, extra map[string]any) (*playbook.Result, error) {
	t.Helper()
	return m.runWith(ctx, t, book, extra, runOptions{})
}

// runOptions change how the suite runs a playbook.
type runOptions struct {
	stopSignal syscall.Signal // sent to ansible-playbook's process group when ctx ends (0: SIGTERM)
	quiet      bool           // do not copy Ansible's output into the test log on failure
	allTags    bool           // run every task, not only --tags cni (playbooks other than site.yml)
}

func (m *migration) runWith(ctx context.Context, t *testing.T, book string, extra map[string]any, o runOptions) (*playbook.Result, error) {
	t.Helper()
	vars := map[string]any{
		"cnimigrate_strategy":      m.strategy,
		"cnimigrate_artifacts_dir": m.artifacts,
		// The suite is one operator continuing one migration across runs: the features that kill a
		// run or make it fail re-run at once, as the refusal tells an operator to (the lock of a run
		// that ended without releasing it is continued by passing its holder).
		"cni_lock_holder": "e2e-suite@controller " + m.name(),
	}
	for k, v := range extra {
		vars[k] = v
	}
	ctx, cancel := context.WithTimeout(ctx, playbookTimeout)
	defer cancel()
	logPath := filepath.Join(m.artifacts, fmt.Sprintf("ansible-%s-%d.log", strings.TrimSuffix(filepath.Base(book), ".yml"), time.Now().UnixNano()))
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create ansible log: %v", err)
	}
	defer logFile.Close()
	tags := []string{"cni"}
	if o.allTags {
		tags = nil
	}
	res, err := playbook.Run(ctx, playbook.Params{
		Dir: m.root, Inventory: m.cluster.inventory, Playbook: book, ExtraVars: vars,
		Tags: tags, Library: []string{m.library}, Output: logFile, StopSignal: o.stopSignal,
	})
	if err != nil && !o.quiet {
		out, _ := os.ReadFile(logPath)
		t.Logf("ansible-playbook %s failed; its output:\n%s", book, tail(string(out), 200))
	}
	return res, err
}

// site runs the command platform teams run: playbooks/site.yml --tags cni -e cni_provider=<provider>.
func (m *migration) site(ctx context.Context, t *testing.T, provider string, extra map[string]any) (*playbook.Result, error) {
	vars := map[string]any{"cni_provider": provider, "cluster_state": "present"}
	for k, v := range extra {
		vars[k] = v
	}
	return m.run(ctx, t, "playbooks/site.yml", vars)
}

func tail(s string, lines int) string {
	all := strings.Split(s, "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// failedTasks lists "task on host: msg" for every failed task of a run.
func failedTasks(res *playbook.Result) []string {
	if res == nil {
		return nil
	}
	var out []string
	for _, p := range res.Plays {
		for _, task := range p.Tasks {
			for host, hr := range task.Hosts {
				if hr.Failed() && !hr.Ignored {
					out = append(out, fmt.Sprintf("%s on %s: %s", task.Name, host, hr.Msg()))
				}
			}
		}
	}
	return out
}
