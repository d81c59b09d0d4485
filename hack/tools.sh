#!/usr/bin/env bash
# Builds the lab's Kubernetes tools from the Go module proxy, once per version, into a cache
# outside the clone. Prints the directory that holds the binaries. Never downloads a prebuilt binary.
#
#   hack/tools.sh                 build what is missing, print the bin dir
#   hack/tools.sh --check         exit 1 (with the missing names) instead of building
#   hack/tools.sh kind [--check]  the kind tier's: kubelet, kubeadm, kube-proxy and kind (same dir)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/versions.sh
source "$root/hack/versions.sh"

cache=${CNIMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnimigrate}
bin="$cache/tools/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
check_only=false kind=false
for a in "$@"; do
	case $a in
	--check) check_only=true ;;
	kind) kind=true ;;
	*) echo "usage: hack/tools.sh [kind] [--check]" >&2; exit 2 ;;
	esac
done

log() { printf '[tools] %s\n' "$*" >&2; }

mkdir -p "$bin" 2>/dev/null || { log "cache dir $bin is not writable: set CNIMIGRATE_CACHE to a writable directory"; exit 1; }
[[ -w $bin ]] || { log "cache dir $bin is not writable: set CNIMIGRATE_CACHE to a writable directory"; exit 1; }

# build <stamp> <tools module dir> <output> <ldflags> <package>...  — one go build per group, skipped
# when cached. <output> is a file, or the bin dir with a trailing slash for several packages.
build() {
	local stamp=$1 dir=$2 out=$3 ldflags=$4; shift 4
	if [[ -f $bin/.$stamp.done ]]; then return 0; fi
	if $check_only; then log "missing: $stamp (run: make tools)"; return 1; fi
	log "building $stamp ($*) — first build only, cached in $bin afterwards"
	local start=$SECONDS
	# Called as `build … || status=1`, where bash ignores set -e: check the build's status here.
	if ! (cd "$root/hack/tools/$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=0 \
		go build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$@") >&2; then
		log "building $stamp failed (output above)"
		return 1
	fi
	touch "$bin/.$stamp.done"
	log "built $stamp in $((SECONDS - start)) s"
}

minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
kube_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	kube_ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
	kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

status=0
if $kind; then
	# The node binaries share most packages with the lab's control plane: the Go build cache
	# compiles them once.
	build "kube-node-$KUBE_VERSION" kube "$bin/" "$kube_ldflags" \
		k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kube-proxy || status=1
	build "kind-$KIND_VERSION" kind "$bin/kind" "" sigs.k8s.io/kind || status=1
	((status == 0)) || exit 1
	echo "$bin"
	exit 0
fi
build "etcd-$ETCD_VERSION" etcd "$bin/etcd" "" go.etcd.io/etcd/server/v3 || status=1
build "kwok-$KWOK_VERSION" kwok "$bin/" "" \
	sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl || status=1
build "kubernetes-$KUBE_VERSION" kube "$bin/" "$kube_ldflags" \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl || status=1
((status == 0)) || exit 1
echo "$bin"
