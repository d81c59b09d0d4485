package lab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// k3sTokens are the lab's join tokens, in K3s' format (K10<CA hash>::<user>:<password>): random
// per lab and written where a real K3s node keeps them, so that a test can prove that nothing the
// playbooks print or record ever shows them.
type k3sTokens struct{ server, agent string }

func newK3sTokens() (k3sTokens, error) {
	var parts [4]string
	for i, n := range []int{32, 16, 32, 16} {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return k3sTokens{}, fmt.Errorf("lab K3s tokens: %w", err)
		}
		parts[i] = hex.EncodeToString(b)
	}
	return k3sTokens{server: "K10" + parts[0] + "::server:" + parts[1], agent: "K10" + parts[2] + "::node:" + parts[3]}, nil
}

// k3sHostFiles are a K3s node's own files as K3s' install script leaves them on a node prepared for
// a CNI other than flannel: /etc/rancher/k3s/config.yaml (flags and join tokens) and the systemd
// unit whose ExecStart runs k3s server or agent.
func k3sHostFiles(n Node, firstServer Node, tok k3sTokens) []hostFile {
	config, unit := k3sAgentConfig(n, firstServer, tok), hostFile{defaults.K3sAgentUnit, 0o644, k3sUnit("agent")}
	if n.Role == RoleServer {
		config, unit = k3sServerConfig(n, tok), hostFile{defaults.K3sServerUnit, 0o644, k3sUnit("server")}
	}
	return []hostFile{{defaults.K3sConfigFile, 0o600, config}, unit}
}

// k3sServerConfig: flannel and K3s' network policy controller off, so that Calico (and then
// Cilium) is the only CNI.
func k3sServerConfig(n Node, tok k3sTokens) string {
	return strings.Join([]string{
		"# k3s server configuration (cnimigrate lab)",
		"token: " + tok.server,
		"agent-token: " + tok.agent,
		"node-ip: " + n.IP,
		"flannel-backend: none",
		"disable-network-policy: true",
		"cluster-cidr: " + defaults.K3sClusterCIDR,
		"service-cidr: " + defaults.K3sServiceCIDR,
		"",
	}, "\n")
}

func k3sAgentConfig(n, firstServer Node, tok k3sTokens) string {
	return strings.Join([]string{
		"# k3s agent configuration (cnimigrate lab)",
		"server: https://" + firstServer.IP + ":6443",
		"token: " + tok.agent,
		"node-ip: " + n.IP,
		"",
	}, "\n")
}

// k3sUnit is k3s.service (k3s-agent.service) as the install script writes it for a node whose
// flags are all in config.yaml.
func k3sUnit(command string) string {
	return `[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=` + map[string]string{"server": "notify", "agent": "exec"}[command] + `
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/k3s` + map[string]string{"server": "", "agent": "-agent"}[command] + `.service.env
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s \
    ` + command + `

`
}

// k3sHostDirs are bind-mounted per node host besides nethost's defaults: the systemd units, so that
// each host has its own k3s.service (and never sees this machine's).
var k3sHostDirs = []string{"/etc/systemd/system"}
