package migration

import (
	"testing"

	"sigs.k8s.io/e2e-framework/pkg/env"
)

// Each scenario is a fresh cluster running Calico, migrated the way users migrate, then every claim.
func TestMigrationReplaceManifest(t *testing.T) { runScenario(t, scenario{"replace", "manifest"}) }
func TestMigrationLiveManifest(t *testing.T)    { runScenario(t, scenario{"live", "manifest"}) }
func TestMigrationReplaceOperator(t *testing.T) { runScenario(t, scenario{"replace", "operator"}) }
func TestMigrationLiveOperator(t *testing.T)    { runScenario(t, scenario{"live", "operator"}) }

func runScenario(t *testing.T, sc scenario) {
	if testing.Short() {
		t.Skip("e2e: brings up a cluster and migrates it; skipped with -short")
	}
	m := &migration{scenario: sc, library: requireModules(t), root: repoRoot(t), artifacts: t.TempDir()}
	m.cluster = newCluster(t, sc.name(), sc.flavour)
	env.NewWithConfig(m.cluster.envConfig()).Test(t,
		m.migrationCompletes(),
		m.calicoGoneFromCluster(),
		m.calicoGoneFromNodes(),
		m.ciliumReady(),
		m.podsRecreated(),
		m.backupComplete(),
		m.policiesPreserved(),
		m.secondRunChangesNothing(),
		m.rollbackRestoresCalico(),
	)
}
