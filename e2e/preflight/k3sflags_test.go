package preflight

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
	"github.com/cnimigrate/cnimigrate/internal/testbed/playbook"
)

// testK3sFlags: the preflight sees what K3s really runs with, beyond config.yaml, and refuses a
// server where K3s would fight the new CNI, naming the flag and the file.
func testK3sFlags(ctx context.Context, t *testing.T, r *runner) {
	server := r.server().Name
	config := r.k3sConfig(t, server)
	unit, err := os.ReadFile(r.lab.HostPath(server, defaults.K3sServerUnit))
	if err != nil {
		t.Fatalf("the lab wrote no k3s.service on %s: %v", server, err)
	}
	withoutFlannel := strings.Replace(config, "flannel-backend: none\n", "", 1)
	withNetpol := strings.Replace(string(unit), "    server\n", "    server \\\n\t'--disable-network-policy=false'\n", 1)
	if withoutFlannel == config || withNetpol == string(unit) {
		t.Fatalf("the lab's K3s files changed shape; update the cases:\n%s\n%s", config, unit)
	}
	cases := []struct {
		name  string
		files map[string]string
		task  string
		want  []string // in the failure message
	}{
		{"a config.yaml.d drop-in turns flannel back on",
			map[string]string{defaults.K3sConfigFile + ".d/50-flannel.yaml": "flannel-backend: vxlan\n"},
			"cni_preflight : Preflight | Stop if K3s still runs flannel",
			[]string{"flannel-backend is vxlan", defaults.K3sConfigFile + ".d/50-flannel.yaml"}},
		{"the service's command line turns K3s' network policy controller back on",
			map[string]string{defaults.K3sServerUnit: withNetpol},
			"cni_preflight : Preflight | Stop if K3s runs its own network policy controller",
			[]string{"disable-network-policy is false", defaults.K3sServerUnit + " (ExecStart)"}},
		{"an unset flannel-backend is vxlan, not none",
			map[string]string{defaults.K3sConfigFile: withoutFlannel},
			"cni_preflight : Preflight | Stop if K3s still runs flannel",
			[]string{"flannel-backend is not set", defaults.K3sConfigFile, "default vxlan"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.stage(t, server, tc.files)
			res, err := r.run(ctx, t, playbook.Params{Limit: server})
			hr, ok := res.HostResult(tc.task, server)
			if err == nil || !ok || !hr.Failed() {
				t.Fatalf("want %q to stop the play on %s; ran: %v, result %v, play error %v", tc.task, server, ok, hr.Result, err)
			}
			t.Logf("%s refused: %s", server, hr.Msg())
			for _, w := range tc.want {
				if !strings.Contains(hr.Msg(), w) {
					t.Errorf("the message does not say %q:\n%s", w, hr.Msg())
				}
			}
		})
	}
}
