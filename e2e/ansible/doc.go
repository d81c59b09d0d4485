// Package ansiblee2e proves the modules work under real Ansible: it builds every module in modules/
// that has a library/<module>.yml sidecar, starts node hosts (internal/testbed/nethost), and drives them
// with ansible-playbook over SSH — normal mode, --check, --diff and bad arguments — then checks
// that ansible-doc renders every sidecar. Only tests live here; it never imports modules/.
package ansiblee2e
