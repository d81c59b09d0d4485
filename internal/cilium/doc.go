// Package cilium installs, upgrades and removes Cilium with the Helm v4 SDK, fresh or side by side
// with Calico for a live migration (Cilium's "Migrating a cluster to Cilium" procedure).
//
// Run computes a Plan first (read-only: release lookup, chart load, preflight, CiliumNodeConfig
// and Calico checks) and applies it only outside check mode. Decisions worth knowing:
//
//   - Idempotency compares the deployed release's chart (version and a digest of its templates,
//     values and files) and its user-supplied values with the desired ones. It does not hash the
//     rendered manifest: Cilium's chart generates fresh TLS certificates on every client-side
//     render (objects labelled cilium.io/helm-template-non-idempotent), so a manifest hash would
//     never match; the chart digest catches an edited local chart with an unchanged version.
//   - Each revision the module makes carries the label cnimigrate.io/desired (revision number and a
//     hash of chart and values). A rerun lists the release Secrets' labels only and, when the newest
//     revision is deployed and carries the desired label, decodes nothing: every revision holds the
//     whole chart, and decoding them is most of a no-op run's time otherwise. Revisions made by
//     anyone else (helm upgrade copies labels, rollback copies the target's) carry another revision
//     number and get the full comparison.
//   - Server-side apply is off for install, upgrade and rollback, as cilium-cli does, so releases
//     made by Helm 3 or cilium-cli are patched the way they were created instead of fought over.
//     Helm itself waits for hooks only; every other wait is ours (internal/wait) so that a timeout
//     names what was not ready and on which nodes. rollback_on_failure is ours too.
//   - The CiliumNodeConfig CRD is registered by cilium-operator at runtime, not by the chart.
//     In migration mode the module waits (bounded by timeout) for that CRD before it creates the
//     cilium-default CiliumNodeConfig, and fails with "CiliumNodeConfig CRD not registered by
//     cilium-operator" otherwise. It never installs Cilium CRDs itself: they belong to the
//     operator of the exact Cilium version, which upgrades them. Tests simulate the operator by
//     creating the CRDs from the Cilium module zip.
//   - finalize sets rollOutCiliumPods and operator.rollOutPods, so the switch to the final values
//     restarts the agents and the operator (the procedure's "restart the cilium DaemonSet") through
//     Helm, once, instead of an imperative restart on every run.
//   - values in the result are the values given to Helm (presets, values_files, values), not the
//     chart's thousands of defaults; values under keys that look secret are masked.
package cilium
