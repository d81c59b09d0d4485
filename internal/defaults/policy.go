package defaults

// Calico → Cilium policy translation (internal/policy, calico_policy_translate).
const (
	// PolicyFieldManager owns the fields of the Cilium policies the translator applies.
	PolicyFieldManager = "cnimigrate-policy"
	// PolicySourceAnnotation names the Calico policy a Cilium policy was translated from.
	PolicySourceAnnotation = "cnimigrate.io/calico-policy"
	// PolicyMaxSelectors bounds how many label selectors one Calico selector may expand to
	// (each || alternative is one); beyond it the selector is reported, not translated.
	PolicyMaxSelectors = 64
	// PolicyNamePrefix starts the name of every translated policy: calico-<name> for a
	// NetworkPolicy (in its namespace), calico-global-<name> for a GlobalNetworkPolicy.
	PolicyNamePrefix = "calico-"
	// PolicyGlobalNamePrefix starts the name of a translated GlobalNetworkPolicy.
	PolicyGlobalNamePrefix = "calico-global-"
	// CiliumPolicyEnforcementKey is the cilium-config key holding policyEnforcementMode.
	CiliumPolicyEnforcementKey = "enable-policy"
	// PolicyDestMode is the file mode of the translated-policy YAML file.
	PolicyDestMode = 0o644
)

// PolicyClusterCIDRs returns the address ranges assumed to belong to the cluster when none are
// given: K3s' pod and service CIDRs and the pod CIDR Cilium uses during the migration. Calico
// `nets` that overlap them cannot become Cilium CIDR rules (Cilium's CIDR rules never select
// cluster endpoints).
func PolicyClusterCIDRs() []string {
	return []string{K3sClusterCIDR, K3sServiceCIDR, CiliumMigrationPodCIDR}
}
