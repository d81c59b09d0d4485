package cilium

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cnimigrate/cnimigrate/internal/testbed/lab"
	"github.com/cnimigrate/cnimigrate/internal/testbed/library"
)

// A plain install on a K3s cluster without another CNI, driven the way users drive it: through
// ansible-playbook with the built module (check mode, install, no-op rerun, removal). Also: a
// kubeconfig without permissions fails clearly and changes nothing.
func TestIntegrationFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped under -short")
	}
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Fatal("ansible-playbook is not installed (ansible-core, listed in hack/deps.txt; run make deps)")
	}
	l := startLab(t, lab.CalicoNone)
	simulateOperator(t, l)
	empty := l.footprint(t)

	t.Run("a kubeconfig without permission fails clearly and changes nothing", func(t *testing.T) {
		_, err := l.run(t, Parameters{Kubeconfig: l.unprivilegedKubeconfig(t)})
		if err == nil || !strings.Contains(err.Error(), "lacks a permission cilium_install needs") ||
			!strings.Contains(err.Error(), `User "system:serviceaccount:default:cilium-install-nobody" cannot list`) {
			t.Errorf("error = %v", err)
		}
		l.assertUnchanged(t, empty, "the refused run")
	})

	pb := newPlaybook(t, l)
	t.Run("check mode", func(t *testing.T) {
		res := pb.run(t, "--check", "--diff")
		if res.changed != 1 || res.failed != 0 || res.action != ActionInstall {
			t.Errorf("check mode: %+v", res)
		}
		l.assertUnchanged(t, empty, "ansible-playbook --check")
	})
	t.Run("install", func(t *testing.T) {
		res := pb.run(t)
		if res.changed != 1 || res.failed != 0 || res.action != ActionInstall || res.revision != 1 {
			t.Fatalf("install: %+v", res)
		}
		if res.ready != len(l.nodes) {
			t.Errorf("agents ready = %d, want %d", res.ready, len(l.nodes))
		}
	})
	t.Run("rerun changes nothing", func(t *testing.T) {
		before := l.footprint(t)
		if res := pb.run(t); res.changed != 0 || res.failed != 0 || res.revision != 1 {
			t.Errorf("rerun: %+v", res)
		}
		l.assertUnchanged(t, before, "the rerun")
	})
	t.Run("absent", func(t *testing.T) {
		if res := pb.run(t, "-e", "cilium_state=absent"); res.changed != 1 || res.failed != 0 {
			t.Errorf("absent: %+v", res)
		}
		if fp := l.footprint(t); fp != empty {
			t.Errorf("left behind: %+v", fp)
		}
	})
}

// unprivilegedKubeconfig is the lab's kubeconfig with a ServiceAccount token that has no RBAC.
func (l *testLab) unprivilegedKubeconfig(t *testing.T) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cilium-install-nobody", Namespace: "default"}}
	if _, err := l.kube.CoreV1().ServiceAccounts("default").Create(t.Context(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := l.kube.CoreV1().ServiceAccounts("default").CreateToken(t.Context(), sa.Name, &authv1.TokenRequest{}, metav1.CreateOptions{})
	must(t, err)
	cfg, err := clientcmd.LoadFromFile(l.kubeconfig)
	must(t, err)
	cur := cfg.Contexts[cfg.CurrentContext]
	cfg.AuthInfos[cur.AuthInfo] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	path := filepath.Join(t.TempDir(), "nobody.kubeconfig")
	must(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// playbook runs the built module through ansible-playbook on localhost.
type playbook struct {
	dir string
	env []string
}

type playResult struct {
	changed, failed int
	action          string
	revision, ready int
	msg             string
}

const playbookYAML = `- hosts: localhost
  gather_facts: false
  tasks:
    - name: Cilium | install, upgrade or remove
      cilium_install:
        state: "{{ cilium_state | default('present') }}"
        kubeconfig: "{{ kubeconfig }}"
        chart_ref: "{{ chart }}"
        wait: true
        timeout: 120
      register: cilium
    - name: Cilium | show the registered result
      debug:
        var: cilium
`

func newPlaybook(t *testing.T, l *testLab) *playbook {
	t.Helper()
	dir := t.TempDir()
	lib := library.Dir(t, "cilium_install") // the binary and its sidecar, as make build left them
	must(t, os.WriteFile(filepath.Join(dir, "play.yml"), []byte(playbookYAML), 0o644))
	vars, _ := json.Marshal(map[string]string{"kubeconfig": l.kubeconfig, "chart": realChart(t)})
	must(t, os.WriteFile(filepath.Join(dir, "vars.json"), vars, 0o644))
	return &playbook{dir: dir, env: append(os.Environ(), "ANSIBLE_LIBRARY="+lib, "ANSIBLE_STDOUT_CALLBACK=json",
		"ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")}
}

func (pb *playbook) run(t *testing.T, args ...string) playResult {
	t.Helper()
	cmd := exec.Command("ansible-playbook", append([]string{"-i", "localhost,", "-c", "local", "-e", "@vars.json", "play.yml"}, args...)...)
	cmd.Dir, cmd.Env = pb.dir, pb.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.Output() // a failed task exits non-zero; the JSON says what happened
	// The json callback overwrites each result's "action" with the task's module name, so the
	// module's own keys are read from the registered variable (the debug task).
	type moduleResult struct {
		Action    string `json:"action"`
		Revision  int    `json:"revision"`
		Msg       string `json:"msg"`
		Readiness *struct {
			Ready int `json:"ready"`
		} `json:"readiness"`
	}
	var report struct {
		Plays []struct {
			Tasks []struct {
				Hosts map[string]struct {
					Msg    string        `json:"msg"`
					Cilium *moduleResult `json:"cilium"`
				} `json:"hosts"`
			} `json:"tasks"`
		} `json:"plays"`
		Stats map[string]struct{ Changed, Failures int } `json:"stats"`
	}
	if err := json.Unmarshal(out, &report); err != nil || len(report.Plays) == 0 {
		t.Fatalf("ansible-playbook %v: output is not the json callback's report: %v\n%s\n%s", args, err, out, stderr.String())
	}
	tasks := report.Plays[0].Tasks
	res := playResult{changed: report.Stats["localhost"].Changed, failed: report.Stats["localhost"].Failures,
		msg: tasks[0].Hosts["localhost"].Msg}
	if len(tasks) > 1 {
		if r := tasks[1].Hosts["localhost"].Cilium; r != nil {
			res.action, res.revision = r.Action, r.Revision
			if r.Readiness != nil {
				res.ready = r.Readiness.Ready
			}
		}
	}
	t.Logf("ansible-playbook %v: %+v", args, res)
	return res
}
