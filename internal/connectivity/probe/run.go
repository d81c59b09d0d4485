package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
	"github.com/cnimigrate/cnimigrate/internal/defaults"
)

// Run deploys the test namespace, runs the enabled probes and removes what it created (unless
// Keep). An error means the probes could not be attempted (bad input such as a node selector that
// matches no node, or the namespace could not be created); everything found after that is in the
// Outcome's entries, including setup and cleanup failures.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	nodes, err := selectNodes(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Notes: excludedNotes(nodes)}
	ns, err := createNamespace(ctx, cfg)
	if err != nil {
		return out, err
	}
	out.Namespace = ns
	out.Objects = append(out.Objects, "Namespace/"+ns)
	defer finish(ctx, cfg, out)
	out.Entries = probe(ctx, cfg, out, nodes)
	return out, nil
}

// Plan is what Run would create and run, for check mode: it reads the nodes, creates nothing and
// skips every probe with reason.
func Plan(ctx context.Context, cfg Config, reason string) (*Outcome, error) {
	nodes, err := selectNodes(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ns := defaults.ConnectivityNamespacePrefix + "<random>"
	out := &Outcome{Notes: excludedNotes(nodes), Objects: plannedObjects(cfg, ns)}
	t := plannedTopology(ns, nodes.Names)
	out.Entries = skipAll(append(planProbes(cfg, t), planPolicy(cfg, t)...), reason)
	return out, nil
}

func plannedObjects(cfg Config, ns string) []string {
	objs := []string{"Namespace/" + ns, "Deployment/" + ns + "/" + echoName, "Service/" + ns + "/" + echoName,
		"DaemonSet/" + ns + "/" + clientName}
	if cfg.Groups[GroupPolicy] {
		objs = append(objs, "NetworkPolicy/"+ns+"/"+policyName)
	}
	return objs
}

func excludedNotes(nodes nodeSet) []string {
	if len(nodes.Excluded) == 0 {
		return nil
	}
	return []string{"probe pods skip these nodes: " + strings.Join(nodes.Excluded, ", ")}
}

// probe deploys the workloads and runs the probes; every failure becomes an entry.
func probe(ctx context.Context, cfg Config, out *Outcome, nodes nodeSet) []result.Entry {
	planned := plannedTopology(out.Namespace, nodes.Names)
	all := func(t topology) []spec { return append(planProbes(cfg, t), planPolicy(cfg, t)...) }
	svcIP, err := createWorkloads(ctx, cfg, out, nodes.Names)
	if err != nil {
		return setupFailed(err, all(planned))
	}
	pods, err := waitPods(ctx, cfg, out.Namespace, nodes.Names)
	if err != nil {
		return setupFailed(err, all(planned))
	}
	t := buildTopology(out.Namespace, svcIP, pods)
	if nodes.Fake {
		return skipAll(all(t), fmt.Sprintf("probes need real pods: %s %s (annotation %s=fake); "+
			"exec there is answered by kwok, not by a container, so no probe ran",
			strings.Join(nodes.Names, ", "), kwokNodes(len(nodes.Names)), defaults.KwokNodeAnnotation))
	}
	if len(t.Clients) == 0 {
		return setupFailed(errors.New("no client pod is ready"), all(planned))
	}
	kit, err := preflight(ctx, cfg, out.Namespace, t.Clients[0])
	if err != nil {
		return setupFailed(err, all(t))
	}
	if !kit.Real {
		return skipAll(all(t), kit.Reason)
	}
	t.clusterDomain = kit.ClusterDomain
	var entries []result.Entry
	for _, s := range planProbes(cfg, t) {
		entries = append(entries, runProbe(ctx, cfg, out.Namespace, kit, s))
	}
	return append(entries, runPolicy(ctx, cfg, out, kit, planPolicy(cfg, t))...)
}

func kwokNodes(n int) string {
	if n == 1 {
		return "is a kwok fake node"
	}
	return "are kwok fake nodes"
}

// setupFailed reports the setup failure as one failed entry (with its evidence) and every planned
// probe as skipped because of it.
func setupFailed(err error, planned []spec) []result.Entry {
	e := result.Entry{Name: NameSetup, Layer: result.LayerProbes, Status: result.Failed, Error: err.Error()}
	var se *SetupError
	if errors.As(err, &se) {
		e.Details = se.Details
	}
	return append([]result.Entry{e}, skipAll(planned, "probe setup failed: "+firstLines(err.Error(), 1))...)
}

// finish removes the test namespace, or keeps it when asked. A cleanup failure is a failed entry:
// the user must know something was left behind.
func finish(ctx context.Context, cfg Config, out *Outcome) {
	if cfg.Keep {
		out.Kept = true
		out.Cleanup = "kept (keep: true): delete namespace " + out.Namespace + " when done"
		return
	}
	if err := deleteNamespace(ctx, cfg, out.Namespace); err != nil {
		out.Cleanup = err.Error()
		out.Entries = append(out.Entries, result.Entry{Name: NameCleanup, Layer: result.LayerProbes,
			Status: result.Failed, Error: err.Error()})
		return
	}
	out.Cleanup = "namespace " + out.Namespace + " deleted"
}
