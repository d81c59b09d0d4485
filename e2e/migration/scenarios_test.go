package migration

import (
	"os"
	"testing"

	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/types"
)

// Each scenario is a fresh cluster running Calico, migrated the way users migrate, then every claim.
// `make test` covers both strategies and both Calico flavours in two scenarios (replace on
// calico.yaml, live on the tigera-operator install) plus TestMigrationFaults; the nightly run
// (CNIMIGRATE_E2E_ALL=1, or `make e2e-all`) adds the other two pairings, ~10 minutes each on 2 cores.
func TestMigrationReplaceManifest(t *testing.T) { runScenario(t, scenario{"replace", "manifest"}) }
func TestMigrationLiveOperator(t *testing.T)    { runScenario(t, scenario{"live", "operator"}) }
func TestMigrationLiveManifest(t *testing.T) {
	nightly(t)
	runScenario(t, scenario{"live", "manifest"})
}
func TestMigrationReplaceOperator(t *testing.T) {
	nightly(t)
	runScenario(t, scenario{"replace", "operator"})
}

func nightly(t *testing.T) {
	if os.Getenv("CNIMIGRATE_E2E_ALL") == "" && *providerFlag == "lab" {
		t.Skip("nightly scenario: set CNIMIGRATE_E2E_ALL=1 (make e2e-all) to run it; " +
			"make test runs replace on calico.yaml, live on the operator flavour, and the fault scenario")
	}
}

func runScenario(t *testing.T, sc scenario) {
	if testing.Short() {
		t.Skip("e2e: brings up a cluster and migrates it; skipped with -short")
	}
	m := &migration{scenario: sc, library: requireModules(t), root: repoRoot(t), artifacts: t.TempDir()}
	m.cluster = newCluster(t, sc.name(), sc.flavour)
	oc := &operatorCordon{}
	feats := []types.Feature{oc.cordonANode(), m.migrationCompletes(), oc.kept("after the migration")}
	var afterRollback []types.Feature
	if *providerFlag == "kind" {
		// Real pods: the prober runs through the migration, and the datapath claims follow.
		before, after, rolledBack := m.kindFeatures()
		feats = append(append(before, feats...), after...)
		afterRollback = rolledBack
	}
	feats = append(append(feats, m.migratedClaims()...), m.rollbackRestoresCalico(), oc.kept("after the rollback"))
	env.NewWithConfig(m.cluster.envConfig()).Test(t, append(feats, afterRollback...)...)
}

// migratedClaims are the claims of a finished migration, however it got there.
func (m *migration) migratedClaims() []types.Feature {
	return []types.Feature{
		m.calicoGoneFromCluster(),
		m.calicoGoneFromNodes(),
		m.workloadsMoveBeforeCalicoLeaves(),
		m.ciliumReady(),
		m.podsRecreated(),
		m.backupComplete(),
		m.policiesPreserved(),
		m.secondRunChangesNothing(),
	}
}
