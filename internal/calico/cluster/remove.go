package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Clients are the two views of the API this package needs: typed (readiness checks, discovery)
// and dynamic (everything else). Unit tests pass fakes.
type Clients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
}

// Parameters configures a removal or a restore.
type Parameters struct {
	BackupDir string
	// Force removes Calico even when the Cilium agent is not ready on every node.
	Force bool
	// StripFinalizers strips the finalizers of objects that do not go within Timeout (and lets the
	// removal go on when calico-system does not empty): whatever they guard is left behind.
	StripFinalizers bool
	// Timeout bounds every wait (defaults.DefaultTimeout when 0).
	Timeout time.Duration
	// CiliumNamespace and CiliumDaemonSet name the agent DaemonSet the precondition checks.
	CiliumNamespace string
	CiliumDaemonSet string
	CheckMode       bool
	// BackupOnly writes and verifies the backup and removes nothing (no precondition either): the
	// migration's backup phase, taken before anything in the cluster changes.
	BackupOnly bool
}

func (p *Parameters) complete() {
	if p.Timeout <= 0 {
		p.Timeout = defaults.DefaultTimeout
	}
	if p.CiliumNamespace == "" {
		p.CiliumNamespace = defaults.CiliumNamespace
	}
	if p.CiliumDaemonSet == "" {
		p.CiliumDaemonSet = defaults.CiliumAgentDaemonSet
	}
}

// Stuck is an object that did not go away in time, and the finalizers holding it.
type Stuck struct {
	Object     string   `json:"object"`
	Finalizers []string `json:"finalizers"`
	Reason     string   `json:"reason,omitempty"`
	ref        Ref
}

// Report is what a removal found, planned and did.
type Report struct {
	Flavour         string `json:"flavour"`
	CalicoVersion   string `json:"calico_version"`
	OperatorVersion string `json:"operator_version,omitempty"`
	BackupDir       string `json:"backup_dir,omitempty"`
	BackupReused    bool   `json:"backup_reused"`
	// BackupGeneration is the generation of the backup written (1: backup_dir itself, N:
	// backup_dir/gen-N, when a resumed removal found Calico's objects changed); 0 when reused.
	BackupGeneration int       `json:"backup_generation"`
	BackupWritten    bool      `json:"backup_written"`
	Backup           *Manifest `json:"backup_manifest,omitempty"`
	Plan             []Entry   `json:"plan"`
	Removed          []string  `json:"removed"`
	NotRemoved       []string  `json:"not_removed"`
	Stuck            []Stuck   `json:"stuck"`
	Stripped         []Stuck   `json:"stripped_finalizers"`
	// PoolCIDRs are Calico's pool and block CIDRs, from the cluster or, once Calico is gone, from
	// the backup in BackupDir: what node cleanup needs to tell Calico's routes from others.
	PoolCIDRs []string `json:"pool_cidrs"`
	Warnings  []string `json:"-"`
}

// Changed reports whether there was anything to remove (or, backing up only, a backup to write).
func (r *Report) Changed() bool { return len(r.Plan) > 0 || r.BackupWritten }

// ErrPrecondition marks a refusal because the replacement CNI is not ready.
var ErrPrecondition = errors.New("refusing to remove Calico")

// Remove plans Calico's removal and, unless in check mode, backs everything up and removes it.
// Nothing is deleted before the precondition holds and the backup is written and verified. On a
// failure midway the report says what was removed and what was not.
func Remove(ctx context.Context, c Clients, p Parameters) (*Report, error) {
	p.complete()
	inv, err := discover(ctx, c.Dynamic)
	if err != nil {
		return nil, fmt.Errorf("read Calico's objects (nothing was removed): %w", err)
	}
	rep := &Report{Flavour: inv.flavour(), BackupDir: p.BackupDir, Removed: []string{}, NotRemoved: []string{},
		Stuck: []Stuck{}, Stripped: []Stuck{}}
	rep.CalicoVersion, rep.OperatorVersion = versions(ctx, c.Dynamic, inv)
	steps := buildPlan(inv)
	rep.Plan = entries(steps)
	rep.PoolCIDRs, rep.Warnings = knownPoolCIDRs(inv, p.BackupDir)
	if len(steps) == 0 {
		return rep, nil
	}
	if p.BackupOnly {
		return backupOnly(ctx, c.Dynamic, rep, inv, p)
	}
	if !p.Force {
		if err := ciliumReady(ctx, c.Kube, p.CiliumNamespace, p.CiliumDaemonSet); err != nil {
			return rep, fmt.Errorf("%w: %v (set force: true to remove it anyway)", ErrPrecondition, err)
		}
	}
	snap := inv.snapshot()
	uid, err := clusterUID(ctx, c.Dynamic)
	if err != nil {
		return rep, err
	}
	bp, err := prepareBackup(p.BackupDir, snap, uid)
	if err != nil {
		return rep, err
	}
	rep.BackupReused, rep.BackupGeneration = bp.action == backupReuse, bp.generation
	if p.CheckMode {
		return rep, nil
	}
	b := bp.existing
	if bp.action == backupWrite {
		if b, err = writeBackup(bp.dir, Manifest{Flavour: rep.Flavour, CalicoVersion: rep.CalicoVersion, ClusterUID: uid,
			Generation: bp.generation}, snap); err != nil {
			return rep, err
		}
	}
	rep.Backup = &b.Manifest
	r := &remover{Clients: c, p: p, rep: rep}
	for _, s := range steps {
		if err := r.run(ctx, s); err != nil {
			r.finish(steps)
			return rep, fmt.Errorf("step %s: %w", s.name, err)
		}
	}
	r.finish(steps)
	return rep, nil
}

// backupOnly writes and verifies the backup (or finds the same one already there) and removes
// nothing: the plan is empty, changed means a backup was written.
func backupOnly(ctx context.Context, dyn dynamic.Interface, rep *Report, inv *inventory, p Parameters) (*Report, error) {
	rep.Plan = []Entry{}
	snap := inv.snapshot()
	uid, err := clusterUID(ctx, dyn)
	if err != nil {
		return rep, err
	}
	bp, err := prepareBackup(p.BackupDir, snap, uid)
	if err != nil {
		return rep, err
	}
	rep.BackupReused, rep.BackupGeneration = bp.action == backupReuse, bp.generation
	if bp.action != backupWrite {
		rep.Backup = &bp.existing.Manifest
		return rep, nil
	}
	rep.BackupWritten = true
	if p.CheckMode {
		return rep, nil
	}
	b, err := writeBackup(bp.dir, Manifest{Flavour: rep.Flavour, CalicoVersion: rep.CalicoVersion, ClusterUID: uid,
		Generation: bp.generation}, snap)
	if err != nil {
		return rep, err
	}
	rep.Backup = &b.Manifest
	return rep, nil
}

// clusterUID identifies the cluster a backup is of: the UID of its kube-system namespace ("" if
// the API does not show one).
func clusterUID(ctx context.Context, dyn dynamic.Interface) (string, error) {
	ns, err := dyn.Resource(gvrNamespace).Get(ctx, "kube-system", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read namespace kube-system (the cluster's id for its backup; nothing was removed): %w", err)
	}
	return string(ns.GetUID()), nil
}
