#!/usr/bin/env bash
# make demo: the whole story on the local lab, in one command.
#   1. a K3s-shaped cluster running Calico and the ML platform's workloads of the migration article (the lab);
#   2. the user's command: ansible-playbook playbooks/site.yml --tags cni -e cni_provider=cilium;
#   3. the migration report.
# The lab stays up afterwards so you can look around (kubectl, ssh, ansible); `make lab-down` removes it.
# STRATEGY=replace|live (default live), CALICO=manifest|operator (default manifest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
strategy=${STRATEGY:-live}
calico=${CALICO:-manifest}
name=cnimigrate
artifacts=$root/reports/demo

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

tools=$(hack/tools.sh --check) || { echo "lab tools missing: run make tools" >&2; exit 1; }
mkdir -p bin
go build -o bin/lab ./hack/lab

say "Removing an earlier demo lab, if any"
bin/lab down --name "$name" >/dev/null

say "Bringing up the lab: 1 K3s server + 2 agents, Calico ($calico flavour), ML workloads"
bin/lab up --name "$name" --calico "$calico" --tools-dir "$tools"
workdir=$(bin/lab status --name "$name" 2>/dev/null | sed -n 's/^Lab ".*" (work dir \(.*\))$/\1/p')
inventory=$workdir/inventory.yml
[[ -f $inventory ]] || { echo "lab inventory not found at $inventory" >&2; exit 1; }

say "Migrating Calico → Cilium ($strategy strategy) with the user's command"
rm -rf "$artifacts"
echo "ansible-playbook -i $inventory playbooks/site.yml --tags cni -e cni_provider=cilium -e cnimigrate_strategy=$strategy"
start=$SECONDS
ansible-playbook -i "$inventory" playbooks/site.yml --tags cni \
	-e cni_provider=cilium -e cnimigrate_strategy="$strategy" -e cnimigrate_artifacts_dir="$artifacts"
echo "migration took $((SECONDS - start)) s"

say "Migration report ($artifacts/migration-report.md)"
cat "$artifacts/migration-report.md"

say "The cluster now"
bin/lab status --name "$name"

say "Done. The lab is still running: explore it with the commands above; remove it with: make lab-down"
