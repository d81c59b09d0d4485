// Package cluster removes Calico from a cluster through the Kubernetes API, and puts it back.
//
// Remove discovers what is installed (operator or manifest flavour, Calico's version), checks that
// the replacement CNI is ready on every node, writes a verified backup of every Calico object and
// every NetworkPolicy, and only then deletes, in the order that does not hang: APIServer CR,
// Installation CR, wait for calico-system to empty, the tigera-operator, the v3.projectcalico.org
// APIService, the manifest's objects, the namespaces, the CRDs. Every wait is bounded; an object
// that does not go is reported with its finalizers, which are stripped only when asked.
//
// Restore re-creates, from such a backup, whatever of it is missing (CRDs first). Both compute a
// plan first; in check mode that plan is the whole answer.
package cluster
