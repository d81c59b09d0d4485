#!/usr/bin/env bash
# Installs the Debian packages of every command in hack/deps.txt, only when missing. Idempotent.
#
#   hack/deps.sh               install what is missing
#   hack/deps.sh --missing     print the missing packages (exit 1 when any), install nothing
#   hack/deps.sh --guard-path  print a directory holding only the commands hack/deps.txt lists
#                              (symlinks), for a PATH that makes an unlisted command fail
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
table=${CNIMIGRATE_DEPS:-$root/hack/deps.txt}

log() { printf '[deps] %s\n' "$*" >&2; }

# rows prints "command package" for every command of the table.
rows() {
	awk -F'|' '/^[[:space:]]*(#|$)/ { next }
		NF < 2 { printf "hack/deps.txt:%d: want \"commands | package | who\"\n", NR > "/dev/stderr"; exit 1 }
		{ gsub(/^[ \t]+|[ \t]+$/, "", $2); n = split($1, cmds, /[ \t]+/)
		  for (i = 1; i <= n; i++) if (cmds[i] != "") print cmds[i], $2 }' "$table"
}

# where prints the path of a command: an absolute path as it is, else PATH or the sbin dirs.
where() {
	local c=$1 d
	if [[ $c == /* ]]; then [[ -e $c ]] && echo "$c"; return; fi
	type -P "$c" 2>/dev/null && return
	for d in /usr/local/sbin /usr/sbin /sbin; do [[ -x $d/$c ]] && { echo "$d/$c"; return; }; done
	return 1
}

missing_packages() {
	local cmd pkg
	while read -r cmd pkg; do
		where "$cmd" >/dev/null || echo "$pkg"
	done < <(rows) | sort -u
}

guard_path() {
	local dir=${CNIMIGRATE_GUARD_DIR:-$root/.cache/guard-path} cmd pkg p bad=()
	rm -rf "$dir" && mkdir -p "$dir"
	while read -r cmd pkg; do
		[[ $cmd == /* ]] && continue # absolute paths need no PATH entry
		if p=$(where "$cmd"); then
			ln -sf "$p" "$dir/$cmd"
		else
			bad+=("$cmd ($pkg)")
		fi
	done < <(rows)
	if ((${#bad[@]})); then
		log "not installed: ${bad[*]} (run: make deps)"
		exit 1
	fi
	echo "$dir"
}

case ${1:-} in
--guard-path) guard_path; exit ;;
--missing)
	mapfile -t pkgs < <(missing_packages)
	((${#pkgs[@]} == 0)) || { printf '%s\n' "${pkgs[@]}"; exit 1; }
	exit 0 ;;
"") ;;
*) log "usage: hack/deps.sh [--missing | --guard-path]"; exit 2 ;;
esac

mapfile -t pkgs < <(missing_packages)
if ((${#pkgs[@]} == 0)); then
	log "all Debian packages present"
	exit 0
fi
if [[ " ${pkgs[*]} " == *" - "* ]]; then
	log "Go is missing from PATH: install the Go toolchain first"
	exit 1
fi
log "installing Debian packages: ${pkgs[*]}"
if [[ $(id -u) -ne 0 ]]; then
	log "need root to install ${pkgs[*]} (run as root, or install them yourself)"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
if mapfile -t still < <(missing_packages) && ((${#still[@]})); then
	log "installed ${pkgs[*]}, but commands of these are still missing: ${still[*]}"
	exit 1
fi
log "installed ${pkgs[*]}"
