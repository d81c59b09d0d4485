#!/usr/bin/env bash
# make e2e-kind: the e2e features on kind clusters with real pods and real Calico and Cilium
# datapaths. Starts a Docker engine when none answers (and stops it at the end), builds the tier's
# images when the engine lacks them (hack/kind/images.sh; cached by version), then runs the
# migration suite with --provider=kind. Every step says what it does and how long it took.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { printf '[e2e-kind] %s\n' "$*" >&2; }
step() { # step <what> <command...>
	local what=$1 start=$SECONDS; shift
	log "$what …"
	"$@"
	log "$what: done in $((SECONDS - start)) s"
}

[[ $(id -u) -eq 0 ]] || { log "run as root: the tier starts a Docker engine and kind's privileged node containers"; exit 1; }
tools=$(hack/tools.sh --check) || { log "lab tools missing: run make tools"; exit 1; }
step "kind-tier tools (kubelet, kubeadm, kube-proxy, kind)" hack/tools.sh kind >/dev/null

engine=$(hack/kind/engine.sh status 2>/dev/null) && started=false || started=true
if $started; then
	engine=$(step "Docker engine" hack/kind/engine.sh up)
	trap 'hack/kind/engine.sh down' EXIT
fi
export "${engine?}"
log "engine: $DOCKER_HOST"

# A run that was killed leaves its clusters (and their node volumes, GBs each) behind: delete the
# suite's clusters before starting (kind removes their volumes). On the tier's own engine, volumes
# no container uses any more (nodes removed without -v) go too; an engine that was already there
# is left as it was, apart from the suite's clusters.
for c in $("$tools/kind" get clusters 2>/dev/null | grep -E '^e2e-' || true); do
	step "delete cluster $c, left by an earlier run" "$tools/kind" delete cluster --name "$c"
done
if $started; then docker volume prune -f >/dev/null; fi

images=$(step "images (built here when missing; see docs/benchmarks.md for cold and warm times)" hack/kind/images.sh all)
while IFS='=' read -r k v; do export "CNIMIGRATE_$k=$v"; done <<<"$images"

export CNIMIGRATE_TOOLS=$tools CNIMIGRATE_KIND=$tools/kind CNIMIGRATE_KUBECTL=$tools/kubectl
# The kind tier runs Calico's manifest flavour (the tigera operator's images are not built here):
# the datapath check on Calico, then both strategies, each on a fresh cluster. E2E_KIND_RUN picks a
# part of it while developing (a go test -run pattern, e.g. '^TestMigrationLiveManifest$').
run=${E2E_KIND_RUN:-'^(TestKindCalicoDatapath|TestMigrationReplaceManifest|TestMigrationLiveManifest)$'}
[[ $run == "${E2E_KIND_RUN:-}" ]] && log "E2E_KIND_RUN: only $run"
step "e2e suite on kind" go test -count=1 -v -timeout "${E2E_KIND_TIMEOUT:-150m}" \
	-run "$run" ./e2e/migration/ -args --provider=kind
