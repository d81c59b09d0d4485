package node

import "fmt"

// Who names the CNI a cleanup is of, as messages and diffs show it.
func Who(cni string) string { return map[string]string{CNICalico: "Calico", CNICilium: "Cilium"}[cni] }

// Message is the one-line summary a module reports for a node cleanup: what was (or would be)
// removed, and the routes left in place for want of pool CIDRs.
func Message(cni string, rep *Report, checkMode bool, err error) string {
	who := Who(cni)
	var msg string
	refused := rep.RoutesRefused()
	switch {
	case len(rep.Plan) == 0 && refused > 0:
		msg = "nothing removed"
	case len(rep.Plan) == 0:
		msg = fmt.Sprintf("no %s leftovers on this node", who)
	case checkMode:
		msg = fmt.Sprintf("would remove %d %s items", len(rep.Plan), who)
	case err == nil:
		msg = fmt.Sprintf("removed %d %s items", len(rep.Removed), who)
	}
	if refused > 0 && err == nil {
		msg += fmt.Sprintf("; %d routes with BIRD's or Felix's protocol left in place: no pool_cidrs given, "+
			"and a route is removed only inside Calico's pools", refused)
	}
	return msg
}
