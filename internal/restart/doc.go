// Package restart recreates the pods of Deployments, StatefulSets and DaemonSets (and, when asked,
// bare pods) so that they get addresses from the new CNI after a CNI switch.
//
// It plans first and applies second. Open lists every workload kind, the pods, the ReplicaSets and
// (when Cilium's CRDs exist) the CiliumEndpoints once each, through watch caches (informers) that
// stay open for the run: planning and every rollout check read those caches, so the API server sees
// one List and one Watch per resource plus one PATCH (or one eviction per pod) per workload, however
// long the rollouts take. Plan decides per workload: restart (and why), or skip (and why). Apply
// restarts the kube-system CoreDNS first and waits for it, then everything else through a bounded
// worker pool, and waits with `kubectl rollout status` semantics plus, for strategy unmanaged, a
// check that the new pods are managed by the target CNI.
//
// Workloads whose controller rolls pods on a template change are restarted as `kubectl rollout
// restart` does (the kubectl.kubernetes.io/restartedAt pod-template annotation). Workloads whose
// controller would not replace the pods (OnDelete update strategy, a StatefulSet partition, a paused
// Deployment) have their pods evicted one at a time through the Eviction API, so PodDisruptionBudgets
// are honoured; a budget that keeps refusing past the per-workload timeout is reported by name.
package restart
