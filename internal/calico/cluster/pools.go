package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// poolCIDRs collects the address ranges Calico routes: the CIDRs of its IP pools, IPAM blocks and
// block affinities, and of the operator's Installation pools. Node cleanup removes a BIRD or Felix
// route only inside them. Unparseable values are skipped; the result is sorted and without repeats.
func poolCIDRs(kinds []KindObjects) []string {
	out := []string{}
	for _, ko := range kinds {
		for i := range ko.Objects {
			for _, c := range cidrsOf(ko, &ko.Objects[i]) {
				if p, err := netip.ParsePrefix(c); err == nil && p.Bits() > 0 {
					out = append(out, p.Masked().String())
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func cidrsOf(ko KindObjects, u *unstructured.Unstructured) []string {
	switch {
	case ko.GVR.Group == defaults.CalicoCRDGroup &&
		(ko.GVR.Resource == "ippools" || ko.GVR.Resource == "ipamblocks" || ko.GVR.Resource == "blockaffinities"):
		c, _, _ := unstructured.NestedString(u.Object, "spec", "cidr")
		return []string{c}
	case ko.GVR.Group == defaults.TigeraOperatorGroup && ko.GVR.Resource == "installations":
		pools, _, _ := unstructured.NestedSlice(u.Object, "spec", "calicoNetwork", "ipPools")
		var out []string
		for _, p := range pools {
			if m, ok := p.(map[string]any); ok {
				c, _ := m["cidr"].(string)
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}

// knownPoolCIDRs are the pool CIDRs of the cluster's Calico objects or, when it has none (Calico
// is gone), of the backup in backupDir. A backup that cannot be read leaves them unknown, with a warning.
func knownPoolCIDRs(inv *inventory, backupDir string) (cidrs, warnings []string) {
	if cidrs = poolCIDRs(inv.crs); len(cidrs) > 0 {
		return cidrs, nil
	}
	fromBackup, err := backupPoolCIDRs(backupDir)
	if err != nil {
		return cidrs, []string{err.Error() + ": Calico's pool CIDRs are unknown, and node cleanup removes no route without them"}
	}
	return fromBackup, nil
}

// backupPoolCIDRs reads the pool CIDRs from the backup in dir, once Calico is gone from the
// cluster. No backup there means none known; a backup that does not verify is an error.
func backupPoolCIDRs(dir string) ([]string, error) {
	if dir == "" {
		return []string{}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, manifestFile)); errors.Is(err, os.ErrNotExist) {
		return []string{}, nil
	}
	b, err := readAll(dir)
	if err != nil {
		return nil, fmt.Errorf("read Calico's pool CIDRs from the backup in %s: %w", dir, err)
	}
	return poolCIDRs(b.Kinds), nil
}
