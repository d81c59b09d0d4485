package cluster

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cnimigrate/cnimigrate/internal/wait"
)

// ActionCreate is the one action of a restore plan.
const ActionCreate = "create"

// Skip is an object a restore left out or failed to create, and why.
type Skip struct {
	Object string `json:"object"`
	Reason string `json:"reason"`
}

// RestoreReport is what a restore found, planned and did.
type RestoreReport struct {
	BackupDir   string   `json:"backup_dir"`
	Backup      Manifest `json:"backup_manifest"`
	Plan        []Entry  `json:"plan"`
	Restored    []string `json:"restored"`
	Skipped     []Skip   `json:"skipped"`
	NotRestored []Skip   `json:"not_restored"`
	Warnings    []string `json:"-"`
}

// Changed reports whether anything was (or would be) created.
func (r *RestoreReport) Changed() bool { return len(r.Plan) > 0 }

// restoreRank orders creation: CRDs, namespaces, the objects others refer to, Calico's and the
// operator's resources, workloads last but policies (which change traffic) after them.
func restoreRank(gvr schema.GroupVersionResource) int {
	switch {
	case gvr == gvrCRD:
		return 0
	case gvr == gvrNamespace:
		return 1
	case gvr == gvrDaemonSet || gvr == gvrDeployment:
		return 4
	case gvr == gvrNetworkPolicy:
		return 5
	case contains(calicoGroups, gvr.Group):
		return 3
	}
	return 2
}

type restoreItem struct {
	gvr schema.GroupVersionResource
	obj unstructured.Unstructured
	ref Ref
}

// Restore re-creates every object of the backup in p.BackupDir that the cluster lacks; objects
// that exist are left as they are. CRDs come first and are waited for until established.
func Restore(ctx context.Context, c Clients, p Parameters) (*RestoreReport, error) {
	p.complete()
	if p.BackupDir == "" {
		return nil, fmt.Errorf("backup_dir is required to restore")
	}
	b, err := readAll(p.BackupDir)
	if err != nil {
		return nil, fmt.Errorf("restore from %s: %w", p.BackupDir, err)
	}
	rep := &RestoreReport{BackupDir: p.BackupDir, Backup: b.Manifest, Restored: []string{}, Skipped: []Skip{}, NotRestored: []Skip{}}
	todo, err := restorePlan(ctx, c, b, rep)
	if err != nil {
		return rep, err
	}
	if p.CheckMode || len(todo) == 0 {
		return rep, nil
	}
	var crds []string
	for i, it := range todo {
		if i > 0 && todo[i-1].gvr == gvrCRD && it.gvr != gvrCRD {
			if err := waitEstablished(ctx, c, crds, p); err != nil {
				return rep, err
			}
		}
		if err := create(ctx, c, it, rep); err == nil && it.gvr == gvrCRD {
			crds = append(crds, it.obj.GetName())
		}
	}
	if len(rep.NotRestored) > 0 {
		return rep, fmt.Errorf("restored %d of %d objects; %d could not be created (see not_restored)",
			len(rep.Restored), len(todo), len(rep.NotRestored))
	}
	return rep, nil
}

// restorePlan lists the backed-up objects the cluster lacks, in creation order, and the ones that
// cannot be restored (their namespace neither exists nor is in the backup).
func restorePlan(ctx context.Context, c Clients, b *Backup, rep *RestoreReport) ([]restoreItem, error) {
	namespaces := map[string]bool{}
	nsList, err := listAll(ctx, c.Dynamic, gvrNamespace, "")
	if err != nil {
		return nil, fmt.Errorf("read the cluster: %w", err)
	}
	for _, ns := range nsList {
		namespaces[ns.GetName()] = true
	}
	var all []restoreItem
	for _, ko := range b.Kinds {
		for _, o := range ko.Objects {
			if ko.GVR == gvrNamespace {
				namespaces[o.GetName()] = true
			}
			all = append(all, restoreItem{gvr: ko.GVR, obj: o, ref: refOf(ko.GVR, &o)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return restoreRank(all[i].gvr) < restoreRank(all[j].gvr) })
	var todo []restoreItem
	for _, it := range all {
		if ns := it.obj.GetNamespace(); ns != "" && !namespaces[ns] {
			rep.Skipped = append(rep.Skipped, Skip{Object: it.ref.String(), Reason: "namespace " + ns + " does not exist"})
			continue
		}
		_, err := it.ref.client(c.Dynamic).Get(ctx, it.ref.Name, metav1.GetOptions{})
		switch {
		case err == nil:
			continue
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("get %s: %w", it.ref, err)
		}
		todo = append(todo, it)
		rep.Plan = append(rep.Plan, Entry{Step: "restore", Action: ActionCreate, Object: it.ref.String()})
	}
	return todo, nil
}

func create(ctx context.Context, c Clients, it restoreItem, rep *RestoreReport) error {
	obj, droppedOwners := forCreate(&it.obj)
	_, err := it.ref.client(c.Dynamic).Create(ctx, obj, metav1.CreateOptions{})
	switch {
	case err == nil || apierrors.IsAlreadyExists(err):
		rep.Restored = append(rep.Restored, it.ref.String())
		if droppedOwners {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s was restored without its owner references (they named objects of the old cluster)", it.ref))
		}
		return nil
	default:
		rep.NotRestored = append(rep.NotRestored, Skip{Object: it.ref.String(), Reason: err.Error()})
		return err
	}
}

// waitEstablished waits until the named CRDs serve their resources.
func waitEstablished(ctx context.Context, c Clients, names []string, p Parameters) error {
	if len(names) == 0 {
		return nil
	}
	return wait.For(ctx, fmt.Sprintf("%d restored CRDs to be established", len(names)), p.Timeout, 0,
		func(ctx context.Context) (bool, string, error) {
			for _, n := range names {
				u, err := c.Dynamic.Resource(gvrCRD).Get(ctx, n, metav1.GetOptions{})
				if err != nil {
					return false, "", err
				}
				if !established(u) {
					return false, n + " is not established yet", nil
				}
			}
			return true, "", nil
		})
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["type"] == "Established" && cm["status"] == "True" {
			return true
		}
	}
	return false
}
