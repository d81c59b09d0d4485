package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/dynamic"

	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Where policies are read from.
const (
	SourceCluster = "cluster"
	SourceBackup  = "backup"
)

// Parameters are the options of a translation run (the module's options).
type Parameters struct {
	Source       string   // SourceCluster or SourceBackup
	BackupDir    string   // with SourceBackup
	Dest         string   // file to write the YAML to; "" writes nothing
	Apply        bool     // apply the objects to the cluster
	AllowPartial bool     // go on when constructs are untranslatable
	Namespaces   []string // limit NetworkPolicies to these namespaces; empty: all
	ClusterCIDRs []string // pod, service and node ranges; node addresses are added when a cluster is reachable
}

// NeedsCluster reports whether the run talks to the Kubernetes API.
func (p Parameters) NeedsCluster() bool { return p.Source == SourceCluster || p.Apply }

// Plan is everything a run would do, computed without changing anything.
type Plan struct {
	Parameters  Parameters
	Result      *Result
	YAML        []byte
	DestBefore  []byte // the file's current content (nil when absent)
	DestChanged bool
	Objects     []Change
	Enforcement string // Cilium's policyEnforcementMode when a cluster was read
	Warnings    []string
}

// NewPlan reads the policies, translates and renders them, and compares the result with the
// dest file and (with Apply) the cluster. dyn may be nil when the run needs no cluster.
func NewPlan(ctx context.Context, p Parameters, dyn dynamic.Interface) (*Plan, error) {
	cidrs, err := parseClusterCIDRs(p.ClusterCIDRs)
	if err != nil {
		return nil, err
	}
	if p.NeedsCluster() && dyn == nil {
		return nil, errors.New("internal error: a cluster is needed but no client was given")
	}
	var in Input
	switch p.Source {
	case SourceBackup:
		in, err = LoadBackup(p.BackupDir)
	case SourceCluster:
		in, err = LoadCluster(ctx, dyn)
	default:
		err = fmt.Errorf("unknown source %q (want %s or %s)", p.Source, SourceCluster, SourceBackup)
	}
	if err != nil {
		return nil, err
	}
	in.Namespaces = p.Namespaces
	pl := &Plan{Parameters: p}
	if dyn != nil {
		nodes, err := NodeAddresses(ctx, dyn)
		if err != nil {
			return nil, err
		}
		cidrs = append(cidrs, nodes...)
		if pl.Enforcement, err = Enforcement(ctx, dyn); err != nil {
			return nil, err
		}
	}
	if pl.Result, err = Translate(in, Options{ClusterCIDRs: cidrs}); err != nil {
		return nil, err
	}
	if pl.YAML, err = RenderYAML(pl.Result.Objects); err != nil {
		return nil, err
	}
	if err := pl.planDest(); err != nil {
		return nil, err
	}
	if p.Apply {
		if pl.Objects, err = PlanObjects(ctx, dyn, pl.Result.Objects); err != nil {
			return nil, err
		}
	}
	pl.warn()
	return pl, nil
}

func parseClusterCIDRs(ss []string) ([]netip.Prefix, error) {
	if len(ss) == 0 {
		ss = defaults.PolicyClusterCIDRs()
	}
	out, err := parsePrefixes(ss)
	if err != nil {
		return nil, fmt.Errorf("cluster_cidrs: %w", err)
	}
	return out, nil
}

func (pl *Plan) planDest() error {
	if pl.Parameters.Dest == "" {
		return nil
	}
	info, err := os.Stat(filepath.Dir(pl.Parameters.Dest))
	if err != nil || !info.IsDir() {
		return fmt.Errorf("dest %s: directory %s does not exist", pl.Parameters.Dest, filepath.Dir(pl.Parameters.Dest))
	}
	before, err := os.ReadFile(pl.Parameters.Dest)
	switch {
	case errors.Is(err, os.ErrNotExist):
		pl.DestChanged = true
	case err != nil:
		return fmt.Errorf("read dest: %w", err)
	default:
		pl.DestBefore, pl.DestChanged = before, !bytes.Equal(before, pl.YAML)
	}
	return nil
}

func (pl *Plan) warn() {
	if n := len(pl.Result.Report.Incomplete()); n > 0 && pl.Parameters.AllowPartial {
		pl.Warnings = append(pl.Warnings, fmt.Sprintf("%d Calico policies were translated only in part (allow_partial): see untranslatable", n))
	}
	if pl.Enforcement == "never" && len(pl.Result.Objects) > 0 {
		pl.Warnings = append(pl.Warnings, "Cilium's policyEnforcementMode is never (a migration is in progress): Cilium enforces these policies only once the migration is finalized and enforcement is back to default")
	}
}

// Refusal is the error a run must fail with before changing anything: untranslatable constructs
// without allow_partial. Nil when the run may go on.
func (pl *Plan) Refusal() error {
	bad := pl.Result.Report.Incomplete()
	if len(bad) == 0 || pl.Parameters.AllowPartial {
		return nil
	}
	names := make([]string, len(bad))
	for i, r := range bad {
		names[i] = r.String()
	}
	return fmt.Errorf("%d Calico policies cannot be translated faithfully (%s): see untranslatable for each construct and why; fix them or set allow_partial to write what can be translated",
		len(bad), strings.Join(names, ", "))
}

// Changed reports whether executing the plan changes anything.
func (pl *Plan) Changed() bool {
	if pl.DestChanged {
		return true
	}
	for _, ch := range pl.Objects {
		if ch.Action != ActionUnchanged {
			return true
		}
	}
	return false
}

// Execute writes dest and applies the objects, as planned. It returns the objects applied.
func (pl *Plan) Execute(ctx context.Context, dyn dynamic.Interface) ([]Change, error) {
	if pl.DestChanged {
		if err := writeAtomic(pl.Parameters.Dest, pl.YAML); err != nil {
			return nil, err
		}
	}
	if !pl.Parameters.Apply {
		return nil, nil
	}
	return ApplyObjects(ctx, dyn, pl.Objects)
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write dest: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write dest %s: %w", path, err)
	}
	if err := tmp.Chmod(defaults.PolicyDestMode); err != nil {
		tmp.Close()
		return fmt.Errorf("write dest %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write dest %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write dest %s: %w", path, err)
	}
	return nil
}
