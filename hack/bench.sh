#!/usr/bin/env bash
# make bench: measures cnimigrate against its anchors on the local lab and prints one comparison
# table (also written to reports/bench.md). Arguments go to hack/bench (go run ./hack/bench -h):
#
#   hack/bench.sh            every section: medians of 3 runs (restart section: 1 run, see -restart-runs)
#   hack/bench.sh -quick     one run of everything (about an hour on a busy 2-core machine)
#   hack/bench.sh -large     also a 100-node lab with ~2,000 pods
#   hack/bench.sh -sections cilium,migration
#   hack/bench.sh -sections migration -large -migrations repl100   (only the 100-node migration)
#   make bench BENCH_ARGS=-quick   (the same through make)
#
# Needs root (the lab's node hosts), the lab tools (make tools), the modules (make build), Debian's
# ansible package (kubernetes.core, the anchor of the Cilium install) and the helm CLI that
# kubernetes.core.helm drives (built once from the Go module proxy into the tools cache).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { printf '[bench] %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "run as root: the lab's node hosts are network namespaces with sshd"; exit 1; }
tools=$(hack/tools.sh --check) || { log "lab tools missing: run make tools"; exit 1; }
for m in pod_restart cilium_install migration_state; do
	[[ -x library/$m ]] || { log "library/$m missing: run make build"; exit 1; }
done

# kubernetes.core ships with Debian's full ansible package (ansible-core alone lacks it).
ansible-galaxy collection list kubernetes.core 2>/dev/null | grep -q '^kubernetes\.core ' ||
	{ log "kubernetes.core (Debian's ansible package) missing: run make deps"; exit 1; }
helm=$(hack/tools/helm/build.sh)

log "tools $tools, helm $helm; progress below, the table at the end (and in reports/bench.md)"
export CNIMIGRATE_TOOLS=$tools
# shellcheck disable=SC2086 # BENCH_ARGS holds several flags
exec go run ./hack/bench -helm "$helm" ${BENCH_ARGS:-} "$@"
