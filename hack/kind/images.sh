#!/usr/bin/env bash
# Builds the images the kind tier runs, from Debian packages and Go module sources, when the Docker
# engine does not have them yet. Each image's tag is a digest of what it is built from, so a
# change rebuilds it and a warm run builds nothing. Needs an engine (hack/kind/engine.sh up).
#
#   hack/kind/images.sh base     kind's base image: Debian + systemd + containerd + python3 + sshd
#   hack/kind/images.sh runtime  the userland the workload images share: Debian + iptables, ipset, iproute2
#   hack/kind/images.sh node     the node image: base + kubelet, kubeadm, kubectl and the control
#                                plane's images (apiserver, controller-manager, scheduler, kube-proxy,
#                                etcd, CoreDNS, pause) preloaded into its containerd
#   hack/kind/images.sh calico   calico/node, calico/cni, calico/kube-controllers (VXLAN) from Calico's module
#   hack/kind/images.sh cilium   Cilium's agent and operator-generic images from Cilium's module
#   hack/kind/images.sh probe    connectivity_check's client (curl, dig, ping, iperf3) and echo server
#   hack/kind/images.sh all      every image, in order
# Prints, as shell assignments, the images built (KIND_NODE_IMAGE=…, PROBE_IMAGE=…).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=hack/versions.sh
source "$root/hack/versions.sh"
here=$root/hack/kind
cache=${CNIMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnimigrate}
work=$cache/kind-build
suite=${DEBIAN_SUITE:-bookworm}
sources=${DEBIAN_SOURCES:-/etc/apt/sources.list.d/debian.sources}
[[ -f $sources ]] || sources=/etc/apt/sources.list

log() { printf '[images] %s\n' "$*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
# digest prints a short digest of the named files and strings: an image's tag.
digest() { { for a in "$@"; do if [[ -f $a ]]; then cat "$a"; else echo "$a"; fi; done; } | sha256sum | cut -c1-12; }
moddir() {
	go mod download -json "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))'
}
timed() { # timed <what> <command...>: run, then say how long it took
	local what=$1 start=$SECONDS; shift
	log "building $what"
	"$@"
	log "built $what in $((SECONDS - start)) s"
}

# import_rootfs <tar> <image> <Dockerfile line>...: the rootfs as an image (docker import, then a
# one-layer-free build for the settings `docker import --change` does not take, e.g. STOPSIGNAL).
import_rootfs() {
	local tar=$1 image=$2; shift 2
	docker import "$tar" "$image-rootfs" >/dev/null
	printf 'FROM %s\n' "$image-rootfs" >"$(dirname "$tar")/Dockerfile"
	printf '%s\n' "$@" >>"$(dirname "$tar")/Dockerfile"
	DOCKER_BUILDKIT=0 docker build -q -t "$image" -f "$(dirname "$tar")/Dockerfile" "$(mktemp -d)" >/dev/null
	docker rmi "$image-rootfs" >/dev/null
}

base_image() {
	local kindsrc tag
	kindsrc=$(moddir "sigs.k8s.io/kind@$KIND_VERSION")
	tag=$(digest "$(declare -f build_base import_rootfs)" "$here/node/containerd.toml" "$here/node/storage.yaml" \
		"$here/runc-capfilter/filter.go" "$here/runc-capfilter/main.go" "$KIND_VERSION" "$suite")
	BASE_IMAGE=cnimigrate/kind-base:$tag
	have "$BASE_IMAGE" && { log "cached $BASE_IMAGE"; return; }
	timed "$BASE_IMAGE (Debian $suite + kind $KIND_VERSION's base files)" build_base "$kindsrc"
}

build_base() {
	local kindsrc=$1 dir=$work/base
	rm -rf "$dir" && mkdir -p "$dir"
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$dir/runc-capfilter" ./hack/kind/runc-capfilter)
	local pkgs=(systemd systemd-sysv dbus containerd runc containernetworking-plugins conntrack iptables
		nftables iproute2 ethtool util-linux mount kmod libseccomp2 pigz bash ca-certificates curl procps
		socat jq python3 openssh-server ipset)
	local files=$kindsrc/images/base/files
	mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${pkgs[*]}")" \
		--customize-hook="cp -r '$files/usr/local/bin/.' \"\$1/usr/local/bin/\" && chmod 0755 \"\$1\"/usr/local/bin/*" \
		--customize-hook="mkdir -p \"\$1/kind/manifests\" && cp -r '$files/kind/.' \"\$1/kind/\" && chmod -R u+w,a+rX \"\$1/kind\" && chmod 0755 \"\$1\"/kind/bin/*" \
		--customize-hook="for d in systemd/system systemd/system/kubelet.service.d default sysctl.d; do mkdir -p \"\$1/etc/\$d\"; find '$files/etc/'\$d -maxdepth 1 -type f -exec cp {} \"\$1/etc/\$d/\" \\; ; done; cp '$files/etc/crictl.yaml' \"\$1/etc/\"" \
		--customize-hook="cp '$here/node/containerd.toml' \"\$1/etc/containerd/config.toml\" && cp '$here/node/storage.yaml' \"\$1/kind/manifests/default-storage.yaml\"" \
		--customize-hook="install -m 0755 '$dir/runc-capfilter' \"\$1/usr/local/bin/runc-capfilter\" && ln -sf /usr/bin/containerd \"\$1/usr/local/bin/containerd\"" \
		--customize-hook="mkdir -p \"\$1/opt/cni/bin\" && for p in \"\$1\"/usr/lib/cni/*; do ln -sf /usr/lib/cni/\$(basename \$p) \"\$1/opt/cni/bin/\"; done" \
		--customize-hook="chroot \"\$1\" ctr oci spec | python3 -c 'import json,sys; s=json.load(sys.stdin); s[\"hooks\"]={\"createContainer\":[{\"path\":\"/kind/bin/mount-product-files.sh\"}]}; s[\"process\"].pop(\"rlimits\",None); json.dump(s,sys.stdout,indent=2)' >\"\$1/etc/containerd/cri-base.json\"" \
		--customize-hook="rm -f \"\$1\"/etc/ssh/ssh_host_*; printf '[Unit]\nDescription=SSH host keys of this node\nBefore=ssh.service\n[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n[Install]\nWantedBy=multi-user.target\n' >\"\$1/etc/systemd/system/ssh-hostkeys.service\"" \
		--customize-hook="cd \"\$1\" && find lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete; rm -f lib/systemd/system/multi-user.target.wants/* etc/systemd/system/*.wants/* lib/systemd/system/local-fs.target.wants/* lib/systemd/system/sockets.target.wants/*udev* lib/systemd/system/sockets.target.wants/*initctl* lib/systemd/system/basic.target.wants/*; echo ReadKMsg=no >>etc/systemd/journald.conf" \
		--customize-hook="chroot \"\$1\" systemctl enable kubelet.service containerd.service undo-mount-hacks.service ssh.service ssh-hostkeys.service && chroot \"\$1\" systemctl mask systemd-binfmt.service && mkdir -p \"\$1/etc/kubernetes/manifests\"" \
		"$suite" "$dir/rootfs.tar" "$sources" >&2
	import_rootfs "$dir/rootfs.tar" "$BASE_IMAGE" 'ENV container=docker' 'STOPSIGNAL SIGRTMIN+3' \
		'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]'
	rm -rf "$dir"
}

# rootfs_image <image> <packages,…>: a Debian minbase root filesystem with those packages.
rootfs_image() {
	local image=$1 pkgs=$2 dir=$work/${1//[\/:]/_}
	rm -rf "$dir" && mkdir -p "$dir"
	mmdebstrap --quiet --variant=minbase --include="$pkgs" "$suite" "$dir/rootfs.tar" "$sources" >&2
	import_rootfs "$dir/rootfs.tar" "$image"
	rm -rf "$dir"
}

runtime_pkgs=iptables,nftables,ipset,iproute2,conntrack,kmod,ca-certificates,procps
runtime_image() {
	RUNTIME_IMAGE=cnimigrate/kind-runtime:$(digest "$(declare -f rootfs_image import_rootfs)" "$runtime_pkgs" "$suite")
	have "$RUNTIME_IMAGE" && { log "cached $RUNTIME_IMAGE"; return; }
	timed "$RUNTIME_IMAGE (Debian $suite + $runtime_pkgs)" rootfs_image "$RUNTIME_IMAGE" "$runtime_pkgs"
}

# binary_image <image> <from> <entrypoint or -> <binary>...: <from> with the binaries in
# /usr/local/bin. Labelled with a digest of its inputs; an image whose label still matches is kept.
binary_image() {
	local image=$1 from=$2 entry=$3 ctx inputs; shift 3
	inputs=$(digest "$(docker image inspect -f '{{.Id}}' "$from" 2>/dev/null || echo "$from")" "$entry" "$@")
	[[ $(docker image inspect -f '{{index .Config.Labels "cnimigrate.inputs"}}' "$image" 2>/dev/null) == "$inputs" ]] && return
	ctx=$(mktemp -d)
	cp "$@" "$ctx/"
	{
		echo "FROM $from"
		for b in "$@"; do echo "COPY $(basename "$b") /usr/local/bin/"; done
		[[ $entry != - ]] && echo "ENTRYPOINT [\"$entry\"]"
		echo "LABEL cnimigrate.inputs=$inputs"
	} >"$ctx/Dockerfile"
	docker_build "$image" "$ctx"
	rm -rf "$ctx"
}

docker_build() { # docker_build <image> <context dir>: the legacy builder (no BuildKit, no registry)
	local out
	out=$(DOCKER_BUILDKIT=0 docker build --pull=false -q -t "$1" "$2" 2>&1) || { echo "$out" >&2; return 1; }
}

gobin() { # gobin <out> <package>: a static binary of one of our own commands
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$1" "$2")
}

# The control plane's images, under the names kubeadm asks for (etcd's and CoreDNS' tags are set
# in kind-configs/, so each says the version it really is).
kube_images() {
	local tools=$1 kd=$2 c d
	for c in kube-apiserver kube-controller-manager kube-scheduler; do
		binary_image "registry.k8s.io/$c:$KUBE_VERSION" "$RUNTIME_IMAGE" - "$tools/$c"
	done
	binary_image "registry.k8s.io/kube-proxy:$KUBE_VERSION" "$RUNTIME_IMAGE" - "$kd/kube-proxy"
	binary_image "registry.k8s.io/etcd:$ETCD_VERSION" "$RUNTIME_IMAGE" - "$tools/etcd"
	d=$(mktemp -d)
	gobin "$d/pause" ./hack/kind/pause
	binary_image registry.k8s.io/pause:3.10 scratch /usr/local/bin/pause "$d/pause"
	if [[ ! -x $cache/tools/coredns-$COREDNS_VERSION/coredns ]]; then
		mkdir -p "$cache/tools/coredns-$COREDNS_VERSION"
		timed "CoreDNS $COREDNS_VERSION (github.com/coredns/coredns)" bash -c "cd '$root/hack/tools/coredns' &&
			GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -ldflags=-s -o '$cache/tools/coredns-$COREDNS_VERSION/coredns' github.com/coredns/coredns"
	fi
	binary_image "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "$RUNTIME_IMAGE" /usr/local/bin/coredns \
		"$cache/tools/coredns-$COREDNS_VERSION/coredns"
	rm -rf "$d"
}

node_images=()
node_image() {
	base_image
	runtime_image
	local kd tools
	tools=$("$root/hack/tools.sh" --check) || { log "lab tools missing: run make tools"; return 1; }
	kd=$("$root/hack/tools.sh" kind)
	kube_images "$tools" "$kd"
	node_images=("registry.k8s.io/kube-apiserver:$KUBE_VERSION" "registry.k8s.io/kube-controller-manager:$KUBE_VERSION"
		"registry.k8s.io/kube-scheduler:$KUBE_VERSION" "registry.k8s.io/kube-proxy:$KUBE_VERSION"
		"registry.k8s.io/etcd:$ETCD_VERSION" "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" registry.k8s.io/pause:3.10)
	local ids
	ids=$(for i in "${node_images[@]}"; do docker image inspect -f '{{.Id}}' "$i"; done)
	KIND_NODE_IMAGE=cnimigrate/kind-node:$KUBE_VERSION-$(digest "$BASE_IMAGE" "$ids" "$(declare -f build_node)" "$kd/kubelet" "$kd/kubeadm" "$tools/kubectl")
	have "$KIND_NODE_IMAGE" && { log "cached $KIND_NODE_IMAGE"; return; }
	timed "$KIND_NODE_IMAGE (kubelet, kubeadm, kubectl $KUBE_VERSION; ${#node_images[@]} images preloaded)" \
		build_node "$kd" "$tools"
}

build_node() {
	local kd=$1 tools=$2 cid
	cid=$(docker run -d --privileged --entrypoint sleep "$BASE_IMAGE" infinity)
	if ! fill_node "$kd" "$tools" "$cid"; then
		docker rm -f -v "$cid" >/dev/null 2>&1
		return 1
	fi
	docker rm -f -v "$cid" >/dev/null
}

# fill_node <kube-node bin dir> <lab tools dir> <container>: the build container becomes the node
# image: Kubernetes' node binaries in /usr/bin, the images imported into its containerd, committed.
fill_node() {
	local kd=$1 tools=$2 cid=$3
	docker cp "$kd/kubelet" "$cid:/usr/bin/kubelet"
	docker cp "$kd/kubeadm" "$cid:/usr/bin/kubeadm"
	docker cp "$tools/kubectl" "$cid:/usr/bin/kubectl"
	docker exec "$cid" sh -c "echo $KUBE_VERSION >/kind/version; chown root:root /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl"
	docker exec "$cid" sh -c 'nohup containerd >/dev/null 2>&1 &'
	docker exec "$cid" sh -c 'for i in $(seq 1 100); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; echo "containerd did not start in the build container" >&2; exit 1'
	docker save "${node_images[@]}" | docker exec -i "$cid" ctr --namespace=k8s.io images import --all-platforms --no-unpack -
	docker exec "$cid" pkill containerd
	docker exec "$cid" sh -c 'for i in $(seq 1 50); do pgrep -x containerd >/dev/null || exit 0; sleep 0.2; done'
	docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$cid" "$KIND_NODE_IMAGE" >/dev/null
}

# calico_images: calico/node, calico/cni and calico/kube-controllers under the tags calico.yaml
# names, built from the Calico module the lab uses (its own go.mod, copied out of the module cache,
# since that module replaces its API package with a local path). VXLAN only: no BIRD in node.
calico_images() {
	runtime_image
	local src tag bin=$cache/tools/calico-$CALICO_MODULE_VERSION-api-$CALICO_API_VERSION
	src=$(moddir "github.com/projectcalico/calico@$CALICO_MODULE_VERSION")
	tag=$(sed -n 's#^ *image: docker.io/calico/node:\(v[^ ]*\)$#\1#p' "$src/manifests/calico.yaml" | head -1)
	[[ -n $tag ]] || { log "no calico/node image in $src/manifests/calico.yaml"; return 1; }
	if [[ ! -f $bin/.done ]]; then
		local build=$work/calico-src
		rm -rf "$build" && mkdir -p "$build" "$bin" && cp -r "$src/." "$build/" && chmod -R u+w "$build"
		# The snapshot replaces its API types with its nested ./api module, which a module zip leaves
		# out, and the proxy does not serve that module at the snapshot's commit. The nearest version
		# it serves that compiles with v3.28's code is July 2024's (v3.30's does not); with it,
		# structured-merge-diff must stay at the version Kubernetes 0.29 (Calico's) was built with.
		(cd "$build" && go mod edit \
			-replace "github.com/projectcalico/api=github.com/projectcalico/api@$CALICO_API_VERSION" \
			-replace sigs.k8s.io/structured-merge-diff/v4=sigs.k8s.io/structured-merge-diff/v4@v4.4.1)
		timed "Calico $tag binaries (calico-node, calico CNI + install, kube-controllers)" bash -c "cd '$build' &&
			export GOFLAGS=-mod=mod CGO_ENABLED=0 &&
			go build -trimpath -ldflags='-s -X github.com/projectcalico/calico/pkg/buildinfo.Version=$tag' -o '$bin/calico-node' ./node/cmd/calico-node &&
			go build -trimpath -ldflags=-s -o '$bin/mountns' ./node/cmd/mountns &&
			go build -trimpath -ldflags=-s -o '$bin/calico' ./cni-plugin/cmd/calico &&
			go build -trimpath -ldflags=-s -o '$bin/install' ./cni-plugin/cmd/install &&
			go build -trimpath -ldflags=-s -o '$bin/kube-controllers' ./kube-controllers/cmd/kube-controllers &&
			go build -trimpath -ldflags=-s -o '$bin/check-status' ./kube-controllers/cmd/check-status"
		cp -r "$build/node/filesystem" "$bin/node-filesystem"
		rm -rf "$build"
		touch "$bin/.done"
	fi
	local ctx
	# calico/node: the upstream image's runit layout (rc.local, service dirs) from the module.
	ctx=$(mktemp -d)
	cp -r "$bin/node-filesystem" "$ctx/filesystem" && cp "$bin/calico-node" "$bin/mountns" "$ctx/"
	# Module zips keep no exec bits: runit's scripts must be executable again.
	chmod -R u+w,a+rX "$ctx/filesystem"
	chmod 0755 "$ctx"/filesystem/sbin/* "$ctx/filesystem/etc/rc.local" "$ctx"/filesystem/etc/service/available/*/run
	find "$ctx/filesystem/etc/service/available" -path '*/log/run' -exec chmod 0755 {} +
	cat >"$ctx/Dockerfile" <<-DOCKERFILE
	FROM $CALICO_NODE_BASE
	COPY filesystem/etc/ /etc/
	COPY filesystem/sbin/ /usr/sbin/
	COPY calico-node mountns /bin/
	ENV SVDIR=/etc/service/enabled
	CMD ["start_runit"]
	DOCKERFILE
	docker_build "docker.io/calico/node:$tag" "$ctx" && rm -rf "$ctx"
	# calico/cni: install copies /opt/cni/bin/* onto the node.
	ctx=$(mktemp -d)
	cp "$bin/calico" "$bin/install" "$ctx/" && cp "$bin/calico" "$ctx/calico-ipam"
	printf 'FROM %s\nCOPY calico calico-ipam install /opt/cni/bin/\nENV PATH=$PATH:/opt/cni/bin\nCMD ["/opt/cni/bin/install"]\n' \
		"$RUNTIME_IMAGE" >"$ctx/Dockerfile"
	docker_build "docker.io/calico/cni:$tag" "$ctx" && rm -rf "$ctx"
	# calico/kube-controllers: the manifest's probes exec /usr/bin/check-status.
	ctx=$(mktemp -d)
	cp "$bin/kube-controllers" "$bin/check-status" "$ctx/"
	printf 'FROM %s\nCOPY kube-controllers check-status /usr/bin/\nENTRYPOINT ["/usr/bin/kube-controllers"]\n' \
		"$RUNTIME_IMAGE" >"$ctx/Dockerfile"
	docker_build "docker.io/calico/kube-controllers:$tag" "$ctx" && rm -rf "$ctx"
	CALICO_IMAGES="docker.io/calico/node:$tag docker.io/calico/cni:$tag docker.io/calico/kube-controllers:$tag"
}

calico_node_base() {
	local pkgs=$runtime_pkgs,runit,iputils-ping,net-tools
	CALICO_NODE_BASE=cnimigrate/calico-node-base:$(digest "$(declare -f rootfs_image import_rootfs)" "$pkgs" "$suite")
	have "$CALICO_NODE_BASE" || timed "$CALICO_NODE_BASE (Debian $suite + runit)" rootfs_image "$CALICO_NODE_BASE" "$pkgs"
}

# cilium_images: quay.io/cilium/cilium and quay.io/cilium/operator-generic at CILIUM_VERSION, from
# Cilium's module: the agent's binaries (agent, cilium-dbg, cilium-health, CNI plugin, mount and
# sysctl helpers), its BPF sources (compiled at run time by Debian's clang-19) and init scripts.
# No Envoy and no Hubble relay: the tier's values turn them off.
cilium_agent_pkgs=$runtime_pkgs,util-linux,bash,clang-19,llvm-19
cilium_images() {
	runtime_image
	local src bin
	# Cached by version and by how they are built (this function, the substituted module).
	bin=$cache/tools/cilium-$CILIUM_VERSION-$(digest "$(declare -f cilium_images)" "$here"/third_party/mcs-api-controllers/*)
	src=$(moddir "github.com/cilium/cilium@$CILIUM_VERSION")
	if [[ ! -f $bin/.done ]]; then
		local build=$work/cilium-src v=${CILIUM_VERSION#v}
		rm -rf "$build" && mkdir -p "$build" "$bin/usr/bin" "$bin/opt/cni/bin" && cp -r "$src/." "$build/" && chmod -R u+w "$build"
		# The proxy does not serve the gobgp pseudo-version Cilium pins; its next release builds.
		# Nor the zip of sigs.k8s.io/mcs-api/controllers v0.5.2: upstream's files, in our tree.
		(cd "$build" && go mod edit -replace github.com/osrg/gobgp/v4=github.com/osrg/gobgp/v4@v4.7.0 \
			-replace "sigs.k8s.io/mcs-api/controllers=$here/third_party/mcs-api-controllers")
		timed "Cilium $CILIUM_VERSION agent and operator binaries (github.com/cilium/cilium)" bash -c "cd '$build' &&
			export GOFLAGS=-mod=mod CGO_ENABLED=0 &&
			ld='-s -w -X \"github.com/cilium/cilium/pkg/version.ciliumVersion=$v module\"' &&
			go build -trimpath -ldflags=\"\$ld\" -o '$bin/usr/bin/cilium-agent' ./daemon &&
			go build -trimpath -ldflags=\"\$ld\" -o '$bin/usr/bin/cilium-dbg' ./cilium-dbg &&
			go build -trimpath -ldflags=\"\$ld\" -o '$bin/usr/bin/cilium-health' ./cilium-health &&
			go build -trimpath -ldflags=\"\$ld\" -o '$bin/usr/bin/cilium-health-responder' ./cilium-health/responder &&
			go build -trimpath -ldflags=\"\$ld\" -o '$bin/opt/cni/bin/cilium-cni' ./plugins/cilium-cni &&
			go build -trimpath -ldflags=\"\$ld\" -o '$bin/usr/bin/cilium-mount' ./tools/mount &&
			go build -trimpath -ldflags=\"\$ld\" -o '$bin/usr/bin/cilium-sysctlfix' ./tools/sysctlfix &&
			go build -trimpath -ldflags=\"\$ld\" -tags ipam_provider_operator -o '$bin/cilium-operator-generic' ./operator"
		mkdir -p "$bin/var/lib/cilium"
		cp -r "$build/bpf" "$bin/var/lib/cilium/bpf"
		cp "$build/images/cilium/init-container.sh" "$build/plugins/cilium-cni/install-plugin.sh" \
			"$build/plugins/cilium-cni/cni-uninstall.sh" "$bin/"
		ln -sf cilium-dbg "$bin/usr/bin/cilium"
		rm -rf "$build"
		touch "$bin/.done"
	fi
	local agent_base ctx
	agent_base=cnimigrate/cilium-agent-base:$(digest "$(declare -f rootfs_image import_rootfs)" "$cilium_agent_pkgs" "$suite")
	have "$agent_base" || timed "$agent_base (Debian $suite + clang-19 for Cilium's BPF)" rootfs_image "$agent_base" "$cilium_agent_pkgs"
	ctx=$(mktemp -d)
	cp -r "$bin/usr" "$bin/var" "$bin/opt" "$bin/init-container.sh" "$bin/install-plugin.sh" "$bin/cni-uninstall.sh" "$ctx/"
	chmod 0755 "$ctx"/*.sh # module zips keep no exec bits
	cat >"$ctx/Dockerfile" <<-DOCKERFILE
	FROM $agent_base
	RUN ln -sf clang-19 /usr/bin/clang && ln -sf llc-19 /usr/bin/llc
	COPY usr/ /usr/
	COPY var/ /var/
	COPY opt/ /opt/
	COPY init-container.sh install-plugin.sh cni-uninstall.sh /
	WORKDIR /home/cilium
	ENV INITSYSTEM=SYSTEMD
	CMD ["/usr/bin/cilium-dbg"]
	DOCKERFILE
	docker_build "quay.io/cilium/cilium:$CILIUM_VERSION" "$ctx" && rm -rf "$ctx"
	binary_image "quay.io/cilium/operator-generic:$CILIUM_VERSION" "$RUNTIME_IMAGE" - "$bin/cilium-operator-generic"
	CILIUM_IMAGES="quay.io/cilium/cilium:$CILIUM_VERSION quay.io/cilium/operator-generic:$CILIUM_VERSION"
}

probe_pkgs=curl,bind9-dnsutils,iputils-ping,iperf3,ca-certificates,procps,iproute2
probe_image() {
	local d tag
	tag=$(digest "$(declare -f probe_image rootfs_image import_rootfs binary_image)" "$probe_pkgs" "$suite" "$here"/echo/*.go)
	PROBE_IMAGE=cnimigrate/probe:$tag
	[[ $(docker image inspect -f '{{json .Config.Entrypoint}}' "$PROBE_IMAGE" 2>/dev/null) == '["/usr/local/bin/echo"]' ]] &&
		{ log "cached $PROBE_IMAGE"; return; }
	d=$(mktemp -d)
	have "$PROBE_IMAGE-rootfs" ||
		timed "$PROBE_IMAGE-rootfs (Debian $suite + $probe_pkgs)" rootfs_image "$PROBE_IMAGE-rootfs" "$probe_pkgs"
	gobin "$d/echo" ./hack/kind/echo
	# ENTRYPOINT: connectivity_check's echo pods pass agnhost's `netexec --http-port=N` as args;
	# its client pods set their own command.
	binary_image "$PROBE_IMAGE" "$PROBE_IMAGE-rootfs" /usr/local/bin/echo "$d/echo"
	rm -rf "$d"
}

case ${1:-all} in
base) base_image ;;
runtime) runtime_image ;;
node) node_image ;;
calico) calico_node_base; calico_images ;;
cilium) cilium_images ;;
probe) probe_image ;;
all) node_image; calico_node_base; calico_images; cilium_images; probe_image ;;
*) log "usage: hack/kind/images.sh [base|runtime|node|calico|cilium|probe|all]"; exit 2 ;;
esac
for v in KIND_NODE_IMAGE PROBE_IMAGE CALICO_IMAGES CILIUM_IMAGES; do
	[[ -n ${!v:-} ]] && echo "$v=${!v}"
done
exit 0
