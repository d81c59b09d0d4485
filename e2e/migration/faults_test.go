package migration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	"sigs.k8s.io/e2e-framework/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// TestMigrationFaults is the run users fear: a node that cannot be reached when they start, and a
// controller that dies in the middle of each phase in turn. The first must stop before anything
// changes, naming the node; after the second, re-running the same command must finish the job with
// nothing lost, and every claim of a clean migration must hold.
func TestMigrationFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e: brings up a cluster and migrates it; skipped with -short")
	}
	sc := scenario{"replace", "manifest"}
	m := &migration{scenario: sc, library: requireModules(t), root: repoRoot(t), artifacts: t.TempDir()}
	m.cluster = newCluster(t, "e2e-faults", sc.flavour)
	feats := []types.Feature{m.unreachableNodeStopsTheRun(), m.killedInEveryPhaseFinishes()}
	env.NewWithConfig(m.cluster.envConfig()).Test(t, append(feats, m.migratedClaims()...)...)
}

// unreachableNodeStopsTheRun: with one node cut off, the user's command fails, names the node, and
// the cluster is exactly as before (no state recorded, Calico in place, no Cilium).
func (m *migration) unreachableNodeStopsTheRun() types.Feature {
	var (
		node   string
		res    *playbook.Result
		runErr error
		before snapshot
	)
	return features.New("an unreachable node stops the run before anything changes").WithLabel("phase", "faults").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			before = takeSnapshot(ctx, t, newClients(t, cfg.Client().RESTConfig()))
			node = m.cluster.nodes[len(m.cluster.nodes)-1]
			restore, err := m.cluster.isolate(ctx, node)
			if err != nil {
				t.Fatalf("cut off node %s: %v", node, err)
			}
			res, runErr = m.runWith(ctx, t, "playbooks/site.yml",
				map[string]any{"cni_provider": "cilium", "cluster_state": "present"}, runOptions{quiet: true})
			if err := restore(ctx); err != nil {
				t.Fatalf("reconnect node %s: %v", node, err)
			}
			return ctx
		}).
		Assess("ansible-playbook fails and names the unreachable node", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			if runErr == nil {
				t.Fatalf("the run succeeded with node %s unreachable", node)
			}
			if res == nil || res.Stats[node].Unreachable == 0 {
				t.Errorf("the recap does not show %s unreachable: %+v (%v)", node, res, runErr)
			}
			if !strings.Contains(runErr.Error(), node) {
				t.Errorf("the failure does not name %s: %v", node, runErr)
			}
			return ctx
		}).
		Assess("nothing changed: no migration state, Calico in place, no Cilium", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			if _, err := c.kube.CoreV1().ConfigMaps(defaults.MigrationStateNamespace).Get(ctx, defaults.MigrationStateConfigMap, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("migration state ConfigMap: want NotFound (nothing started), got %v", err)
			}
			if _, err := c.kube.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("cilium DaemonSet: want NotFound, got %v", err)
			}
			now := calicoObjectCounts(ctx, t, c)
			for kind, n := range before.calicoObjects {
				if now[kind] != n {
					t.Errorf("%s: %d now, %d before the refused run", kind, now[kind], n)
				}
			}
			for key, p := range before.pods {
				ns, name, _ := strings.Cut(key, "/")
				pod, err := c.kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil || string(pod.UID) != p.UID {
					t.Errorf("pod %s was restarted or removed by the refused run (%v)", key, err)
				}
			}
			return ctx
		}).Feature()
}

// recordedPhase is one cluster-wide phase as migration_state stores it (phases.json).
type recordedPhase struct {
	Name        string `json:"name"`
	StartedAt   string `json:"started_at"`
	CompletedAt string `json:"completed_at"`
	Attempts    int    `json:"attempts"`
}

// readPhases reads the recorded cluster-wide phases (none while there is no state).
func readPhases(ctx context.Context, c clients) ([]recordedPhase, error) {
	cm, err := c.kube.CoreV1().ConfigMaps(defaults.MigrationStateNamespace).Get(ctx, defaults.MigrationStateConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var phases []recordedPhase
	if raw := cm.Data["phases.json"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &phases); err != nil {
			return nil, fmt.Errorf("phases.json: %w", err)
		}
	}
	return phases, nil
}

// Kill timing: how long after a phase is seen started the controller dies (mid-work, not at its
// first step), and how often the state is polled.
const (
	killDelay    = 1500 * time.Millisecond
	killPoll     = 200 * time.Millisecond
	maxKilledRun = 16 // bound on the runs of the kill loop (replace has 8 phases, live 10)
)

// killedInEveryPhaseFinishes: the user's command is SIGKILLed (with its process group: the
// controller is gone) shortly after each phase starts, one phase per run; the next run of the
// same command resumes. The run that is not killed must complete, and every phase must have been
// interrupted once and then completed once: completed phases are not redone.
func (m *migration) killedInEveryPhaseFinishes() types.Feature {
	interrupted := map[string]bool{}
	var missed, order []string
	return features.New("killed in every phase, the same command finishes the migration").WithLabel("phase", "faults").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			m.before = takeSnapshot(ctx, t, c)
			for run := 1; run <= maxKilledRun; run++ {
				killed, phase, res, err := m.runKilledInNextPhase(ctx, t, c, interrupted)
				if !killed {
					m.first, m.firstErr = res, err
					t.Logf("run %d: not killed (no phase left to interrupt); exit %v", run, err)
					return ctx
				}
				phases, rerr := readPhases(ctx, c)
				if rerr != nil {
					t.Fatalf("read migration state after the kill: %v", rerr)
				}
				done := false
				for _, p := range phases {
					if p.Name == phase && p.CompletedAt != "" {
						done = true
					}
				}
				if done {
					missed = append(missed, phase) // finished within killDelay: the kill came after it
					t.Logf("run %d: killed after phase %s had already completed", run, phase)
				} else {
					t.Logf("run %d: killed during phase %s", run, phase)
				}
				interrupted[phase] = !done
				order = append(order, phase)
			}
			t.Fatalf("still killing after %d runs (phases %v)", maxKilledRun, order)
			return ctx
		}).
		Assess("the run after the last kill exits 0 and writes the report", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			if m.firstErr != nil {
				t.Fatalf("the final run failed: %v; failed tasks: %v", m.firstErr, failedTasks(m.first))
			}
			if report := readArtifact(t, m.artifacts, "migration-report.md"); !strings.Contains(report, "Cilium") {
				t.Errorf("migration report incomplete:\n%s", report)
			}
			return ctx
		}).
		Assess("every phase was interrupted once, then completed once (none redone)", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			phases, err := readPhases(ctx, newClients(t, cfg.Client().RESTConfig()))
			if err != nil {
				t.Fatal(err)
			}
			if len(phases) < 6 {
				t.Fatalf("only %d phases recorded: %+v", len(phases), phases)
			}
			for _, p := range phases {
				want := 1
				if interrupted[p.Name] {
					want = 2
				}
				switch {
				case p.CompletedAt == "":
					t.Errorf("phase %s never completed", p.Name)
				case p.Attempts != want:
					t.Errorf("phase %s ran %d times, want %d (interrupted: %v)", p.Name, p.Attempts, want, interrupted[p.Name])
				}
			}
			n := 0
			for _, v := range interrupted {
				if v {
					n++
				}
			}
			// A phase that completes within killDelay cannot be caught mid-way; every other must be.
			if n+len(missed) != len(phases) || n < len(phases)-2 {
				t.Errorf("interrupted %d of %d phases (order %v; finished before the kill landed: %v)", n, len(phases), order, missed)
			}
			return ctx
		}).Feature()
}

// runKilledInNextPhase runs the user's command and kills it killDelay after the first phase that
// was not interrupted yet starts. It returns whether it killed, and in which phase; when it did
// not, the run's own result.
func (m *migration) runKilledInNextPhase(ctx context.Context, t *testing.T, c clients, interrupted map[string]bool) (bool, string, *playbook.Result, error) {
	t.Helper()
	runCtx, kill := context.WithCancel(ctx)
	defer kill()
	type outcome struct {
		res *playbook.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := m.runWith(runCtx, t, "playbooks/site.yml",
			map[string]any{"cni_provider": "cilium", "cluster_state": "present"}, runOptions{stopSignal: syscall.SIGKILL, quiet: true})
		done <- outcome{res, err}
	}()
	tick := time.NewTicker(killPoll)
	defer tick.Stop()
	for {
		select {
		case o := <-done:
			return false, "", o.res, o.err
		case <-tick.C:
		}
		phases, err := readPhases(ctx, c)
		if err != nil {
			continue // the API server is busy; the next poll tries again
		}
		for _, p := range phases {
			if _, seen := interrupted[p.Name]; seen || p.StartedAt == "" || p.CompletedAt != "" {
				continue
			}
			select {
			case o := <-done:
				return false, "", o.res, o.err
			case <-time.After(killDelay):
			}
			kill()
			<-done
			return true, p.Name, nil, nil
		}
	}
}
