// Package migration is the end-to-end suite: it brings up a cluster running Calico (the local lab
// by default, kind with --provider=kind), runs the migration the way users run it
// (`ansible-playbook -i <inventory> playbooks/site.yml --tags cni -e cni_provider=cilium`), and
// asserts each user-visible claim as its own feature: Calico gone from the cluster and from every
// node, Cilium ready on every node, every non-hostNetwork pod recreated, the backup complete,
// policies preserved, a second run changes nothing, rollback restores Calico. Features carry a
// "phase" label (migrate, rerun, rollback, fault) so a run can select them with --labels.
package migration
