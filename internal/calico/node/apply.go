package node

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Failure is an item that could not be removed, and why.
type Failure struct {
	Item  Item   `json:"item"`
	Error string `json:"error"`
}

// apply removes the plan's items in order. It goes on past a failure: each item stands alone, and
// the kernel itself refuses what is still referenced (a chain with jumps to it, an ipset a rule
// uses). What is already gone counts as removed, so an interrupted run is finished by the next.
// backends are the host's iptables binaries: a failure names the rules that still hold an item.
func apply(plan []Item, backends []*backend) (removed []Item, failed []Failure) {
	flushed := map[int]bool{}
	record := func(it Item, err error) {
		if err != nil {
			failed = append(failed, Failure{Item: it, Error: err.Error()})
			return
		}
		removed = append(removed, it)
	}
	// Chains are flushed, all of them, before any is deleted: cali-* chains jump to each other.
	for i, it := range plan {
		if it.Kind == KindChain {
			if err := flushChain(it); err != nil {
				record(it, err)
				continue
			}
			flushed[i] = true
		}
	}
	for i, it := range plan {
		switch it.Kind {
		case KindChain:
			if flushed[i] {
				record(it, deleteChain(it))
			}
		case KindIPSet:
			record(it, destroyIPSet(it.Name, backends))
		default:
			record(it, removeItem(it))
		}
	}
	return removed, failed
}

// removeItem removes everything but chains (apply's two passes) and ipsets (destroyIPSet). Rules
// come first in a plan, so they are gone before the chains are deleted.
func removeItem(it Item) error {
	switch it.Kind {
	case KindRule:
		return gone(iptablesNotExist, it.backend.ipt.Delete(it.table, it.chain, it.args...))
	case KindNFTTable:
		return deleteNFTTable(it.family)
	case KindRoute:
		return gone(errnoGone, netlink.RouteDel(it.route))
	case KindLink:
		return deleteLink(it)
	case KindNetns:
		return removeNetns(it.Detail)
	case KindPath:
		if it.mountPoint {
			return emptyDir(it.Name)
		}
		return os.RemoveAll(it.Name)
	}
	return fmt.Errorf("unknown item kind %q", it.Kind)
}

func flushChain(it Item) error {
	exists, err := it.backend.ipt.ChainExists(it.table, it.chain)
	if err != nil || !exists {
		return err
	}
	return it.backend.ipt.ClearChain(it.table, it.chain)
}

func deleteChain(it Item) error {
	return gone(iptablesNotExist, it.backend.ipt.DeleteChain(it.table, it.chain))
}

func deleteNFTTable(family string) error {
	path, ok := lookPath("nft")
	if !ok {
		return errors.New("nft not found")
	}
	out, err := exec.Command(path, "delete", "table", family, "calico").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "No such file or directory") {
		return fmt.Errorf("nft delete table %s calico: %w: %s", family, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// deleteLink deletes a link. The ipip fallback device tunl0 cannot be deleted while the module is
// loaded: it is set down and its addresses removed instead.
func deleteLink(it Item) error {
	l, err := netlink.LinkByName(it.Name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find link %s: %w", it.Name, err)
	}
	err = netlink.LinkDel(l)
	if err == nil || it.Name != "tunl0" {
		return gone(errnoGone, err)
	}
	if err := netlink.LinkSetDown(l); err != nil {
		return fmt.Errorf("set tunl0 down: %w", err)
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("list tunl0 addresses: %w", err)
	}
	for _, a := range addrs {
		if err := netlink.AddrDel(l, &a); err != nil {
			return fmt.Errorf("remove %s from tunl0: %w", a.IPNet, err)
		}
	}
	return nil
}

// removeNetns does what `ip netns delete` does: detach the bind mount that keeps the namespace
// alive, then remove the file.
func removeNetns(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// gone treats "does not exist" as success: the item is gone, which is what was asked.
func gone(isGone func(error) bool, err error) error {
	if err != nil && isGone(err) {
		return nil
	}
	return err
}

func iptablesNotExist(err error) bool {
	var ierr *iptables.Error
	return errors.As(err, &ierr) && ierr.IsNotExist()
}

func errnoGone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENODEV)
}
