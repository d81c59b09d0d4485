package node

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
)

// errIPSetBusy is the kernel's refusal to destroy an ipset that something still references.
var errIPSetBusy = nl.IPSetError(nl.IPSET_ERR_BUSY)

// destroyIPSet destroys an ipset. The kernel refuses while a rule uses the set; the plan removes
// Calico's rules first, so what still holds it is someone else's rule: the error names it, read
// from every iptables backend at the moment of the failure, so that the operator knows what to fix.
func destroyIPSet(name string, backends []*backend) error {
	err := netlink.IpsetDestroy(name)
	if err == nil || errnoGone(err) {
		return nil
	}
	if !errors.Is(err, errIPSetBusy) {
		return fmt.Errorf("destroy: %w", err)
	}
	users, lerr := ipsetUsers(name, backends)
	switch {
	case lerr != nil:
		return fmt.Errorf("in use (%w); the rules that use it could not be listed: %v", err, lerr)
	case len(users) == 0:
		return fmt.Errorf("in use (%w), by no iptables rule: another ipset (list:set) or a kernel module holds it", err)
	}
	return fmt.Errorf("in use (%w); rules that still reference it: %s. They are not Calico's and were left in place: "+
		"remove them (or their reference to the set) and re-run", err, strings.Join(users, "; "))
}

// ipsetUsers lists the iptables rules, of every backend and table, that match on the named set.
func ipsetUsers(name string, backends []*backend) ([]string, error) {
	var users []string
	for _, b := range backends {
		tables, err := b.tables()
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			d, err := b.dump(t)
			if err != nil {
				return nil, err
			}
			if d == nil {
				continue
			}
			for _, line := range d.Rules {
				if matchesSet(line, name) {
					users = append(users, fmt.Sprintf("[%s %s] %s", b.Name, t, line))
				}
			}
		}
	}
	return users, nil
}

func matchesSet(rule, name string) bool {
	args, err := splitRule(rule)
	if err != nil {
		return strings.Contains(rule, " "+name+" ")
	}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--match-set" && args[i+1] == name {
			return true
		}
	}
	return false
}
