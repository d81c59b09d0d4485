// Package nodecleanup is the node-side cleanup that cni_node_cleanup and calico_remove's
// scope=node both run: the node package's plan and report as the module's result, with a diff of
// what goes from the node when Ansible asks for one.
package nodecleanup

import (
	"context"

	"github.com/cnimigrate/cnimigrate/internal/ansible"
	"github.com/cnimigrate/cnimigrate/internal/calico/node"
)

// Run cleans the node (plans only in check mode) and returns the module's result; module names
// the module in the diff's "after" header.
func Run(ctx context.Context, req *ansible.Request, p node.Parameters, module string) (*ansible.Result, error) {
	p.CheckMode = req.CheckMode
	rep, err := node.Run(ctx, p)
	if rep == nil {
		return nil, err
	}
	res := &ansible.Result{Changed: rep.Changed(), Values: rep, Warnings: rep.Warnings, Msg: node.Message(p.CNI, rep, req.CheckMode, err)}
	if rep.Changed() {
		res.Diff = []ansible.Diff{{Before: node.Render(rep.Plan), After: "", BeforeHeader: node.Who(p.CNI) + " items on this node",
			AfterHeader: "after " + module}}
	}
	return res, err
}
