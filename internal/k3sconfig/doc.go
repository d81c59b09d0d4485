// Package k3sconfig reads the K3s flags a CNI migration depends on (flannel-backend,
// disable-network-policy, cluster-cidr, disable-kube-proxy) the way K3s itself assembles them, and
// nothing else:
//
//   - the config file (/etc/rancher/k3s/config.yaml, or the one --config names on the command line)
//     and its drop-ins (<config>.d/*.yaml and *.yml, in lexical order): a later file replaces a key,
//     a key ending in "+" appends to it;
//   - the command line of the K3s service (ExecStart of k3s.service or k3s-agent.service and its
//     <unit>.d/*.conf drop-ins), in the --flag value and --flag=value forms: K3s puts the config
//     file's values before the command line's, so the command line wins for a single value and
//     adds to a list (cluster-cidr).
//
// A flag set nowhere is reported as unset together with what K3s' default means for the CNI
// ("unset" is not "none"). The files also hold secrets (token, agent-token, datastore-endpoint):
// only the watched keys leave this package, and Report.Secrets names the values a caller must keep
// out of anything it prints.
package k3sconfig
