// Package preflight tests the preflight as an operator meets it: ansible-playbook against a lab
// whose node hosts carry K3s' own files (config.yaml with the join tokens, its drop-ins, the
// k3s.service unit), asserting what the run prints, records and refuses.
package preflight
