#!/usr/bin/env bash
# Builds every module in modules/ into library/: <module> for this host, plus <module>_linux_amd64 and
# <module>_linux_arm64 for nodes of either architecture. Lean binaries (-trimpath -s -w), version
# stamped. Prints each binary's size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
ldflags="-s -w -X github.com/cnimigrate/cnimigrate/internal/ansible.Version=$version"
host="$(go env GOOS)/$(go env GOARCH)"
mkdir -p library
for dir in modules/*/; do
	m=$(basename "$dir")
	for platform in linux/amd64 linux/arm64; do
		GOOS=${platform%/*} GOARCH=${platform#*/} CGO_ENABLED=0 \
			go build -trimpath -ldflags "$ldflags" -o "library/${m}_${platform/\//_}" "./$dir"
	done
	if [[ $host == linux/amd64 || $host == linux/arm64 ]]; then
		cp "library/${m}_${host/\//_}" "library/$m"
	else
		CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "library/$m" "./$dir"
	fi
done
echo "[build] modules in library/ (version $version):"
for f in library/*; do
	[[ $f == *.yml || $f == *.md ]] && continue
	stat -c '%s %n' "$f"
done | awk '{ printf "  %-44s %6.1f MB\n", $2, $1 / 1048576 }'
