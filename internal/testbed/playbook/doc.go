// Package playbook runs ansible-playbook the way a user would and returns what Ansible reported,
// task by task and host by host, plus the play recap — so tests can assert "the second run changed
// nothing" or read the keys a module returned.
//
//	res, err := playbook.Run(ctx, playbook.Params{
//		Dir: repoRoot, Inventory: hs.InventoryPath(), Playbook: "playbooks/site.yml",
//		Library: []string{libDir}, Check: true, Diff: true, Output: w,
//	})
//	res.Totals().Changed                    // changed tasks over all hosts
//	hr, ok := res.HostResult("Cilium | install", "node-0")
//	hr.Failed(), hr.Changed(), hr.Msg(), hr.Result["some_key"]
//
// Results come from a small callback plugin of ours (cnimigrate_results.py, embedded): ansible-core
// ships no JSON callback (ansible.posix.json belongs to a collection that may be absent), and as a
// notification callback it leaves the normal screen output alone. Run installs ansible-core with
// apt-get when ansible-playbook is missing, keeps host-key checking on, and closes the SSH control
// masters it opened, so no ssh process outlives a run.
//
// A non-zero exit of ansible-playbook is returned as an error *together with* the Result (failed
// tasks are listed in the error); err without a Result means Ansible could not run or produced no
// results (e.g. a syntax error, shown in the error).
package playbook
