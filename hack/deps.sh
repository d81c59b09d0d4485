#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, only when missing. Idempotent.
set -euo pipefail

# command → package
declare -A need=(
	[ansible-playbook]=ansible-core [ansible-lint]=ansible-lint [yamllint]=yamllint
	[sshd]=openssh-server [ssh]=openssh-client [ssh-keygen]=openssh-client [ip]=iproute2
	[iptables-legacy]=iptables [ipset]=ipset [nft]=nftables [unshare]=util-linux [nsenter]=util-linux
)
missing=()
for cmd in "${!need[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] || missing+=("${need[$cmd]}")
done
if ((${#missing[@]} == 0)); then
	echo "[deps] all Debian packages present"
	exit 0
fi
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "[deps] installing Debian packages: ${pkgs[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "[deps] need root to install ${pkgs[*]} (run as root, or install them yourself)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "[deps] installed ${pkgs[*]}"
