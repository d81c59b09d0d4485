package migration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	"sigs.k8s.io/e2e-framework/pkg/types"

	"github.com/cnimigrate/cnimigrate/internal/policy"
)

type step = func(context.Context, *testing.T, *envconf.Config) context.Context

// migrationCompletes: the user's command finishes without a failed task and writes the report.
func (m *migration) migrationCompletes() types.Feature {
	return features.New("the migration playbook completes").WithLabel("phase", "migrate").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			m.before = takeSnapshot(ctx, t, newClients(t, cfg.Client().RESTConfig()))
			// The operator's default for pods no restart moves (the cluster's bare pod) is to stop
			// before Calico's links go; the clusters' inventories then choose to evict them, which
			// the same command, run again, does on its way to the end.
			m.stopped, m.stoppedErr = m.site(ctx, t, "cilium", map[string]any{"workload_restart_leftover_pods": "stop"})
			m.first, m.firstErr = m.site(ctx, t, "cilium", nil)
			return ctx
		}).
		Assess("pods no restart moves stop the run before Calico's links go, each named", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			var bare []string
			for key, p := range m.before.pods {
				if p.Bare && !p.HostNetwork {
					bare = append(bare, key)
				}
			}
			if len(bare) == 0 {
				t.Fatal("the cluster has no bare pod on the pod network: this claim needs one")
			}
			if m.stoppedErr == nil {
				t.Fatalf("the run with workload_restart_leftover_pods=stop went through although %v were still on Calico", bare)
			}
			out := m.stopped.Output
			if !strings.Contains(out, "Stop if pods still run on the old CNI before its links are removed") {
				t.Errorf("the stopped run does not say why it stopped; failed tasks: %v", failedTasks(m.stopped))
			}
			for _, key := range bare {
				if !strings.Contains(out, key+" (bare pod)") {
					t.Errorf("the stop does not name bare pod %s; failed tasks: %v", key, failedTasks(m.stopped))
				}
			}
			for _, p := range m.stopped.Plays {
				for _, task := range p.Tasks {
					if strings.Contains(task.Name, "Remove Calico's files, links, routes") || strings.Contains(task.Name, "Remove Calico from the cluster") {
						t.Errorf("task %q ran before the leftover pods were dealt with", task.Name)
					}
				}
			}
			return ctx
		}).
		Assess("ansible-playbook exits 0 with no failed task", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			if m.firstErr != nil {
				t.Fatalf("migration failed: %v; failed tasks: %v", m.firstErr, failedTasks(m.first))
			}
			return ctx
		}).
		Assess("the report names every phase and the bare pods left behind", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			report := readArtifact(t, m.artifacts, "migration-report.md")
			for _, want := range []string{"backup", "Cilium", "Calico", "restart"} {
				if !strings.Contains(report, want) {
					t.Errorf("migration report does not mention %q:\n%s", want, report)
				}
			}
			for key, p := range m.before.pods {
				if p.Bare && !p.HostNetwork && !strings.Contains(report, strings.SplitN(key, "/", 2)[1]) {
					t.Errorf("bare pod %s is not named in the report", key)
				}
			}
			return ctx
		}).Feature()
}

// calicoGoneFromCluster: no Calico API, DaemonSet, namespace or APIService is left.
func (m *migration) calicoGoneFromCluster() types.Feature {
	return features.New("Calico is gone from the cluster").WithLabel("phase", "migrate").
		Assess("no Calico or Tigera API group is served", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			if left := calicoObjectCounts(ctx, t, newClients(t, cfg.Client().RESTConfig())); len(left) > 0 {
				t.Errorf("Calico kinds still served: %v", left)
			}
			return ctx
		}).
		Assess("no calico-node DaemonSet and no Calico namespace remains", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			for _, ns := range []string{"kube-system", "calico-system"} {
				if _, err := c.kube.AppsV1().DaemonSets(ns).Get(ctx, "calico-node", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("DaemonSet %s/calico-node: want NotFound, got %v", ns, err)
				}
			}
			for _, ns := range []string{"calico-system", "calico-apiserver", "tigera-operator"} {
				if _, err := c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					t.Errorf("namespace %s: want NotFound, got %v", ns, err)
				}
			}
			apiSvc := schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
			if _, err := c.dyn.Resource(apiSvc).Get(ctx, "v3.projectcalico.org", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("APIService v3.projectcalico.org: want NotFound, got %v", err)
			}
			return ctx
		}).Feature()
}

// calicoGoneFromNodes: no Calico file, link, route, rule or set on any node; other CNI plugins stay.
func (m *migration) calicoGoneFromNodes() types.Feature {
	return features.New("Calico is gone from every node").WithLabel("phase", "migrate").
		Assess("no Calico file, link, route, iptables rule or ipset on any node", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			for host, state := range m.readNodes(ctx, t) {
				if left := calicoLeftovers(state); len(left) > 0 {
					t.Errorf("node %s still has Calico leftovers: %v", host, left)
				}
				if bins := state["List CNI binaries"]; !strings.Contains(bins, "loopback") {
					t.Errorf("node %s lost CNI plugins that are not Calico's: %q", host, bins)
				}
			}
			return ctx
		}).Feature()
}

// workloadsMoveBeforeCalicoLeaves: no pod still on Calico loses its network before it is recreated.
// The node cleanup deletes the cali* veths (a pod's eth0 goes with its host end) and Calico's
// routes, so every pod left on Calico at that point is cut off until its restart.
func (m *migration) workloadsMoveBeforeCalicoLeaves() types.Feature {
	return features.New("the workloads move before Calico leaves").WithLabel("phase", "migrate").
		Assess("restart_workloads completed before Calico's removal from the cluster and the nodes started", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			phases, err := readPhases(ctx, newClients(t, cfg.Client().RESTConfig()))
			if err != nil {
				t.Fatalf("read the recorded phases: %v", err)
			}
			byName := map[string]recordedPhase{}
			for _, p := range phases {
				byName[p.Name] = p
			}
			restart := byName["restart_workloads"]
			if restart.CompletedAt == "" {
				t.Fatalf("restart_workloads did not complete: %+v", phases)
			}
			for _, name := range []string{"remove_calico_cluster", "remove_calico_nodes"} {
				p := byName[name]
				switch {
				case p.StartedAt == "":
					t.Errorf("phase %s was not recorded: %+v", name, phases)
				case p.StartedAt < restart.CompletedAt: // one fixed-width UTC format: text order is time order
					t.Errorf("phase %s started at %s, before the workloads had moved (restart_workloads completed at %s): "+
						"pods still on Calico lost their cali* interfaces before their restart", name, p.StartedAt, restart.CompletedAt)
				}
			}
			return ctx
		}).Feature()
}

// ciliumReady: the agent runs ready on every node and the operator is available.
func (m *migration) ciliumReady() types.Feature {
	return features.New("Cilium is ready on every node").WithLabel("phase", "migrate").
		Assess("the cilium DaemonSet is rolled out and ready on every node", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			ds, err := c.kube.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{})
			if err != nil {
				t.Fatalf("cilium DaemonSet: %v", err)
			}
			n := int32(len(m.cluster.nodes))
			st := ds.Status
			if st.DesiredNumberScheduled != n || st.NumberReady != n || st.UpdatedNumberScheduled != n || st.ObservedGeneration < ds.Generation {
				t.Errorf("cilium DaemonSet: desired %d ready %d updated %d (generation %d observed %d), want all %d",
					st.DesiredNumberScheduled, st.NumberReady, st.UpdatedNumberScheduled, ds.Generation, st.ObservedGeneration, n)
			}
			op, err := c.kube.AppsV1().Deployments("kube-system").Get(ctx, "cilium-operator", metav1.GetOptions{})
			if err != nil || !deploymentAvailable(op) {
				t.Errorf("cilium-operator not available: %v", err)
			}
			return ctx
		}).Feature()
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// podsRecreated: every pod that used the pod network runs anew; hostNetwork pods were left alone.
func (m *migration) podsRecreated() types.Feature {
	return features.New("every non-hostNetwork pod was recreated").WithLabel("phase", "migrate").
		Assess("no running pod on the pod network predates the migration (bare pods aside)", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			pods, err := c.kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list pods: %v", err)
			}
			old := map[string]bool{}
			for _, p := range m.before.pods {
				old[p.UID] = true
			}
			for _, p := range pods.Items {
				key := p.Namespace + "/" + p.Name
				before, existed := m.before.pods[key]
				switch {
				case p.Spec.HostNetwork || p.Status.Phase != corev1.PodRunning:
				case existed && before.Bare:
				case old[string(p.UID)]:
					t.Errorf("pod %s still runs from before the migration (uid %s)", key, p.UID)
				}
			}
			return ctx
		}).
		Assess("hostNetwork workload pods were not restarted", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			for key, p := range m.before.pods {
				if !p.HostNetwork || strings.Contains(key, "calico") || strings.HasPrefix(key, "tigera-operator/") {
					continue
				}
				ns, name, _ := strings.Cut(key, "/")
				now, err := c.kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil || string(now.UID) != p.UID {
					t.Errorf("hostNetwork pod %s was restarted or removed (%v)", key, err)
				}
			}
			return ctx
		}).Feature()
}

// backupComplete: the backup fetched to the controller holds every Calico object, checksummed.
func (m *migration) backupComplete() types.Feature {
	return features.New("the backup is complete").WithLabel("phase", "migrate").
		Assess("the manifest counts every Calico kind and every file matches its sha256", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			manifest := findFile(t, filepath.Join(m.artifacts, "backup", "pre-migration"), "manifest.json")
			var man struct {
				Kinds []struct {
					Group, Resource, File, SHA256 string
					Count                         int
				} `json:"kinds"`
			}
			data, err := os.ReadFile(manifest)
			if err != nil || json.Unmarshal(data, &man) != nil {
				t.Fatalf("read backup manifest %s: %v", manifest, err)
			}
			got := map[string]int{}
			for _, k := range man.Kinds {
				got[k.Resource+"."+k.Group] = k.Count
				if k.Count == 0 && k.File == "" {
					continue // a kind with no objects has no file
				}
				file, err := os.ReadFile(filepath.Join(filepath.Dir(manifest), k.File))
				if err != nil {
					t.Errorf("backup file %s: %v", k.File, err)
					continue
				}
				if sum := sha256.Sum256(file); hex.EncodeToString(sum[:]) != k.SHA256 {
					t.Errorf("backup file %s does not match its sha256", k.File)
				}
			}
			for kind, n := range m.before.calicoObjects {
				if got[kind] != n {
					t.Errorf("backup holds %d %s, the cluster had %d", got[kind], kind, n)
				}
			}
			if got["networkpolicies.networking.k8s.io"] != len(m.before.networkPolicies) {
				t.Errorf("backup holds %d Kubernetes NetworkPolicies, the cluster had %d",
					got["networkpolicies.networking.k8s.io"], len(m.before.networkPolicies))
			}
			return ctx
		}).Feature()
}

// policiesPreserved: Kubernetes NetworkPolicies are untouched; every Calico policy has its Cilium twin.
func (m *migration) policiesPreserved() types.Feature {
	return features.New("network policies are preserved").WithLabel("phase", "migrate").
		Assess("Kubernetes NetworkPolicies are unchanged", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			after := takeNetworkPolicies(ctx, t, newClients(t, cfg.Client().RESTConfig()))
			if len(after) != len(m.before.networkPolicies) {
				t.Errorf("%d NetworkPolicies after, %d before", len(after), len(m.before.networkPolicies))
			}
			for k, spec := range m.before.networkPolicies {
				if after[k] != spec {
					t.Errorf("NetworkPolicy %s changed:\nbefore %s\nafter  %s", k, spec, after[k])
				}
			}
			return ctx
		}).
		Assess("every Calico policy exists as a Cilium policy, or the report says why not", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			report := readArtifact(t, m.artifacts, "migration-report.md")
			_, notTranslated, _ := strings.Cut(report, "Not translated")
			for _, key := range m.before.calicoPolicies {
				ns, name, namespaced := strings.Cut(key, "/")
				if !namespaced {
					name = ns
				}
				name = strings.TrimPrefix(name, "default.") // Calico stores tiered names as <tier>.<name>
				gvr := schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumclusterwidenetworkpolicies"}
				var err error
				if namespaced {
					gvr.Resource = "ciliumnetworkpolicies"
					_, err = c.dyn.Resource(gvr).Namespace(ns).Get(ctx, policy.CiliumName(false, name), metav1.GetOptions{})
				} else {
					_, err = c.dyn.Resource(gvr).Get(ctx, policy.CiliumName(true, name), metav1.GetOptions{})
				}
				if err != nil && !strings.Contains(notTranslated, name) {
					t.Errorf("Calico policy %s has no Cilium counterpart (%v) and the report's \"Not translated\" list does not name it", key, err)
				}
			}
			return ctx
		}).Feature()
}

// secondRunChangesNothing: re-running the user's command after success reports no change.
func (m *migration) secondRunChangesNothing() types.Feature {
	return features.New("a second run changes nothing").WithLabel("phase", "rerun").
		Assess("the same command again reports changed=0 on every host", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			res, err := m.site(ctx, t, "cilium", nil)
			if err != nil {
				t.Fatalf("second run failed: %v (%v)", err, failedTasks(res))
			}
			if n, per := recapChanged(res); n != 0 {
				t.Errorf("second run changed %d tasks: %s", n, per)
			}
			return ctx
		}).Feature()
}

// calicoIPAMState are the Calico kinds that record addresses handed to pods, not configuration.
var calicoIPAMState = map[string]bool{
	"ipamhandles.crd.projectcalico.org": true, "ipamblocks.crd.projectcalico.org": true, "blockaffinities.crd.projectcalico.org": true,
}

// rollbackRestoresCalico: rolling back brings Calico's objects and policies back and removes Cilium.
func (m *migration) rollbackRestoresCalico() types.Feature {
	return features.New("rollback restores Calico").WithLabel("phase", "rollback").
		Assess("playbooks/rollback.yml succeeds, from the controller's copy of the backup when the server lost its own", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			if res, err := m.run(ctx, t, "e2e/migration/testdata/lose-server-backup.yml", nil); err != nil {
				t.Fatalf("remove the first server's backup: %v (%v)", err, failedTasks(res))
			}
			res, err := m.run(ctx, t, "playbooks/rollback.yml", nil)
			if err != nil {
				t.Fatalf("rollback failed: %v (%v)", err, failedTasks(res))
			}
			copied := false
			for _, p := range res.Plays {
				for _, task := range p.Tasks {
					if strings.Contains(task.Name, "Put the controller's copy of the removal's backup back") {
						for _, hr := range task.Hosts {
							copied = copied || hr.Changed()
						}
					}
				}
			}
			if !copied {
				t.Error("the rollback did not put the controller's copy of the removal's backup back on the first server")
			}
			return ctx
		}).
		Assess("every Calico object and policy is back, Cilium is gone", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := newClients(t, cfg.Client().RESTConfig())
			after := calicoObjectCounts(ctx, t, c)
			for kind, n := range m.before.calicoObjects {
				switch {
				case *providerFlag == "kind" && calicoIPAMState[kind]:
					// Real pods: Calico's IPAM records follow the pods the rollback restarted.
					if n > 0 && after[kind] == 0 {
						t.Errorf("after rollback no %s, before the migration %d", kind, n)
					}
				case after[kind] != n:
					t.Errorf("after rollback %d %s, before the migration %d", after[kind], kind, n)
				}
			}
			if _, err := c.kube.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("cilium DaemonSet after rollback: want NotFound, got %v", err)
			}
			return ctx
		}).Feature()
}

func takeNetworkPolicies(ctx context.Context, t *testing.T, c clients) map[string]string {
	t.Helper()
	s := snapshot{networkPolicies: map[string]string{}}
	nps, err := c.kube.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list NetworkPolicies: %v", err)
	}
	for _, np := range nps.Items {
		s.networkPolicies[np.Namespace+"/"+np.Name] = specString(np.Spec)
	}
	return s.networkPolicies
}

func readArtifact(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(findFile(t, dir, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(data)
}

// findFile finds a file by name below dir (fetch nests copies under <host>/<remote path>).
func findFile(t *testing.T, dir, name string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == name && found == "" {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no %s below %s", name, dir)
	}
	return found
}
