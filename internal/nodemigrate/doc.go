// Package nodemigrate carries out the per-node steps of Cilium's live migration against the
// Kubernetes API: cordon, drain (policy/v1 evictions that honour PodDisruptionBudgets, DaemonSet
// and mirror pods left alone), label the node for the CiliumNodeConfig, restart the node's Cilium
// agent and wait for its replacement, uncordon.
//
// Each step is a desired state of the node: Run plans what is missing, returns the plan in check
// mode, and applies it otherwise, so repeating a step that already holds changes nothing.
//
// The operator's own cordons survive: before the migration first cordons a node, whether it was
// cordoned already is recorded (CordonRecord, kept in the migration state), and uncordoning leaves
// such a node cordoned. A drain retries evictions refused by a PodDisruptionBudget or failed by a
// transient API error, each pod on its own backoff, until its timeout.
package nodemigrate
