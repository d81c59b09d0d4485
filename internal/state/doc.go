// Package state keeps a migration's progress in the cluster, in one ConfigMap
// (kube-system/cnimigrate-state by default), so that a playbook interrupted at any point can be
// re-run and continue from the phase it reached.
//
// The record holds the strategy, every phase with the time it started and completed and how many
// attempts it took, per-node progress for live migrations, and a free-form data dict that later
// phases and the report read. Changes are planned first (the plan is what check mode reports), and
// writing a phase that is already recorded changes nothing, so a completed migration re-runs clean.
package state
