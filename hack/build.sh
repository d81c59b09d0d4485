#!/usr/bin/env bash
# Builds every module in modules/ into library/<module> for this host: one line per module (size,
# time); the compiler's own output (first builds download modules) goes to .cache/build.log and is
# shown only when a build fails. Lean binaries (-trimpath -s -w), version stamped.
#   hack/build.sh          this host's architecture (what the lab, the kind tier and the tests use)
#   hack/build.sh --dist   also <module>_linux_amd64 and <module>_linux_arm64, for nodes of either
#                          architecture (make dist)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dist=false
[[ ${1:-} == --dist ]] && dist=true
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
ldflags="-s -w -X github.com/cnimigrate/cnimigrate/internal/ansible.Version=$version"
mkdir -p library .cache
log=.cache/build.log
: >"$log"
build() { # build <out> <package> [GOOS/GOARCH]
	local out=$1 pkg=$2 platform=${3:-} start=$SECONDS
	if ! (
		if [[ -n $platform ]]; then export GOOS=${platform%/*} GOARCH=${platform#*/}; fi
		CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out" "$pkg"
	) >>"$log" 2>&1; then
		echo "[build] $out FAILED; the compiler said:" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
	printf '[build] %-44s %6.1f MB  %3d s\n' "$out" "$(stat -c %s "$out" | awk '{ print $1 / 1048576 }')" $((SECONDS - start))
}
echo "[build] modules for this host into library/ (version $version; compiler output: $log)"
for dir in modules/*/; do
	[[ -f $dir/main.go ]] || continue # modules/internal: code the modules share, not a module
	m=$(basename "$dir")
	build "library/$m" "./$dir"
	if $dist; then
		for platform in linux/amd64 linux/arm64; do
			build "library/${m}_${platform/\//_}" "./$dir" "$platform"
		done
	fi
done
