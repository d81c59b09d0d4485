#!/usr/bin/env bash
# Builds the helm CLI (only the benchmark against kubernetes.core.helm needs it) from the Go module
# proxy, once per version, into the tools cache hack/tools.sh uses. Prints the binary's path.
#
#   hack/tools/helm/build.sh           build when missing, print the path
#   hack/tools/helm/build.sh --check   exit 1 instead of building
set -euo pipefail

dir=$(cd "$(dirname "$0")" && pwd)
version=$(cd "$dir" && go list -m -f '{{.Version}}' helm.sh/helm/v4)
cache=${CNIMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnimigrate}
bin="$cache/tools/helm-$version/bin"
log() { printf '[tools] %s\n' "$*" >&2; }

# A binary without the version stamp reports no version: such a leftover is rebuilt.
if [[ -x $bin/helm ]] && "$bin/helm" version --short 2>/dev/null | grep -q "^$version"; then
	echo "$bin/helm"
	exit 0
fi
if [[ ${1:-} == --check ]]; then
	log "missing: helm $version (run: hack/tools/helm/build.sh)"
	exit 1
fi
mkdir -p "$bin" 2>/dev/null && [[ -w $bin ]] || { log "cache dir $bin is not writable: set CNIMIGRATE_CACHE"; exit 1; }
log "building helm $version (helm.sh/helm/v4/cmd/helm) — first build only (~3 min), cached in $bin"
start=$SECONDS
(cd "$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" -o "$bin/helm" helm.sh/helm/v4/cmd/helm) >&2
log "built helm $version in $((SECONDS - start)) s"
echo "$bin/helm"
