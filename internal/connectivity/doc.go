// Package connectivity is the domain of the connectivity_check module: one CNI-agnostic check
// that runs before, during and after a Calico → Cilium migration. It runs two layers, each
// selectable by name: health (API only, package health) and datapath probes (package probe), then
// compares with a baseline and writes the result JSON and JUnit (package report).
//
// Run never imports the Ansible protocol: modules/connectivity_check maps its options onto Options
// and the Report back onto the module result.
package connectivity
