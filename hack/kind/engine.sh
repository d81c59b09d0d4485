#!/usr/bin/env bash
# The kind tier's Docker engine. An engine that already answers is used as it is; otherwise the
# project starts its own dockerd (Debian's docker.io) with its socket under /run/cnimigrate-docker
# and its data root in the tools cache (so the images built for the tier stay cached), and stops
# it again on `down`, removing what dockerd added to the firewall and restoring the FORWARD policy
# and ip_forward it found.
#
#   hack/kind/engine.sh up      start (or find) an engine; prints DOCKER_HOST=<url>
#   hack/kind/engine.sh down    stop the engine this script started; idempotent, like rm -f
#   hack/kind/engine.sh status  print DOCKER_HOST=<url> of an answering engine, exit 1 if none
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CNIMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnimigrate}
data=$cache/docker/data           # images persist here between runs
state=$cache/docker/state         # what the firewall looked like before we started
run=/run/cnimigrate-docker        # short: unix socket paths are limited to 108 bytes
sock=unix://$run/docker.sock
timeout=${CNIMIGRATE_ENGINE_TIMEOUT:-60}

log() { printf '[engine] %s\n' "$*" >&2; }
answers() { DOCKER_HOST=$1 timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

status() {
	if [[ -n ${DOCKER_HOST:-} ]] && answers "$DOCKER_HOST"; then echo "DOCKER_HOST=$DOCKER_HOST"; return; fi
	if answers "$sock"; then echo "DOCKER_HOST=$sock"; return; fi
	if [[ -z ${DOCKER_HOST:-} ]] && answers unix:///var/run/docker.sock; then
		echo "DOCKER_HOST=unix:///var/run/docker.sock"; return
	fi
	return 1
}

# capfilter prints the runtime dockerd should use: stock runc where this machine's processes have
# every capability, else the runc-capfilter wrapper (built once into the cache).
capfilter() {
	local bnd want=0x1ffffffffff
	bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
	if (( (0x$bnd & want) == want )); then return; fi
	local bin=$cache/tools/runc-capfilter/runc-capfilter
	log "this machine withholds capabilities (CapBnd $bnd): containers run through runc-capfilter"
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$bin" ./hack/kind/runc-capfilter) >&2
	echo "$bin"
}

up() {
	if status; then log "using the engine that answers"; return; fi
	[[ $(id -u) -eq 0 ]] || { log "no Docker engine answers and starting one needs root"; exit 1; }
	command -v dockerd >/dev/null || { log "dockerd missing (Debian docker.io): run make deps"; exit 1; }
	mkdir -p "$data" "$state" "$run"
	if [[ ! -f $state/forward-policy ]]; then
		iptables -w -S FORWARD | awk '/^-P FORWARD/ { print $3 }' >"$state/forward-policy"
		cat /proc/sys/net/ipv4/ip_forward >"$state/ip-forward"
	fi
	local args=(--data-root "$data" --exec-root "$run/exec" -H "$sock" --pidfile "$run/docker.pid"
		--containerd-namespace cnimigrate --containerd-plugins-namespace cnimigrate-plugins
		--bridge none --log-level warn)
	local wrapper
	wrapper=$(capfilter)
	[[ -n $wrapper ]] && args+=(--add-runtime "capfilter=$wrapper" --default-runtime capfilter)
	log "starting dockerd (socket $run/docker.sock, data $data; log $run/dockerd.log)"
	setsid dockerd "${args[@]}" >"$run/dockerd.log" 2>&1 </dev/null &
	local deadline=$((SECONDS + timeout))
	until answers "$sock"; do
		if ((SECONDS >= deadline)); then
			log "dockerd did not answer on $sock within ${timeout} s; its log:"; tail -20 "$run/dockerd.log" >&2; exit 1
		fi
		kill -0 $! 2>/dev/null || { log "dockerd exited; its log:"; tail -20 "$run/dockerd.log" >&2; exit 1; }
		sleep 0.5
	done
	echo "DOCKER_HOST=$sock"
}

down() {
	local pid bridges=()
	# The bridges of its networks (kind's): dockerd leaves them, and their FORWARD rules, behind.
	if answers "$sock"; then
		mapfile -t bridges < <(DOCKER_HOST=$sock docker network ls -q --filter driver=bridge | sed 's/^/br-/')
	fi
	if [[ -f $run/docker.pid ]] && pid=$(cat "$run/docker.pid") && kill -0 "$pid" 2>/dev/null; then
		log "stopping dockerd (pid $pid)"
		kill -TERM "$pid"
		for _ in $(seq 1 $((timeout * 2))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		if kill -0 "$pid" 2>/dev/null; then log "dockerd ignored SIGTERM for ${timeout} s: killing it"; kill -KILL "$pid"; fi
	fi
	# What dockerd added to the firewall: its chains, and the rules that jump to them.
	local t
	for t in filter nat; do
		iptables -w -t "$t" -S 2>/dev/null | awk '/^-A / && / -j DOCKER/ { $1 = "-D"; print }' |
			while read -r rule; do eval "iptables -w -t $t $rule" || true; done
		iptables -w -t "$t" -S 2>/dev/null | awk '/^-N DOCKER/ { print $2 }' | while read -r chain; do
			iptables -w -t "$t" -F "$chain" && iptables -w -t "$t" -X "$chain" || true
		done
	done
	local br
	for br in "${bridges[@]}"; do
		[[ -e /sys/class/net/$br ]] || continue
		for t in filter nat; do
			iptables -w -t "$t" -S 2>/dev/null | awk -v br="$br" '/^-A / && index($0, " " br " ") { $1 = "-D"; print }' |
				while read -r rule; do eval "iptables -w -t $t $rule" || true; done
		done
		ip link del "$br" 2>/dev/null || true
	done
	if [[ -f $state/forward-policy ]]; then
		iptables -w -P FORWARD "$(cat "$state/forward-policy")"
		cat "$state/ip-forward" >/proc/sys/net/ipv4/ip_forward
		rm -f "$state/forward-policy" "$state/ip-forward"
	fi
	umount "$run/exec"/*/netns/* 2>/dev/null || true
	rm -rf "$run"
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) log "usage: hack/kind/engine.sh up|down|status"; exit 2 ;;
esac
