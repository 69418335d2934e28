#!/usr/bin/env bash
# What the rule pack costs on a busy container node: a private auditd with the pack, a private
# containerd and dockerd running busy containers (and their Go runtimes' SIGURG storms) for
# SECONDS, then the number of audit records per second the pack produced.
# Usage: rule-cost.sh SECONDS   (root; the lab's packages)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
secs=${1:-30}
lab=$(mktemp -d /tmp/exit137-cost.XXXXXX)
pids=()
cleanup() {
  set +e
  audit_stop
  [ -S "$lab/docker.sock" ] && docker -H "unix://$lab/docker.sock" rm -f $(docker -H "unix://$lab/docker.sock" ps -aq) >/dev/null 2>&1
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1; pkill -9 -f "$lab" 2>/dev/null
  umount -R "$lab"/docker-exec "$lab"/docker 2>/dev/null
  rm -rf "$lab"
}
trap cleanup EXIT
runtimes_start "$lab"
pids+=("${LAB_PIDS[@]}")
busybox_image "$lab"
for i in 1 2 3 4 5; do "${docker[@]}" run -d --network none busybox:lab sh -c 'while true; do sleep 0.1; done' >/dev/null; done
audit_start "$lab/audit" RAW
audit_rules_load
before=$(grep -c 'key="exit137_' "$lab/audit/audit.log" || true)
# busy: the containers loop, and a docker exec every second drives the runtimes
end=$((SECONDS + secs))
while [ $SECONDS -lt $end ]; do "${docker[@]}" exec "$("${docker[@]}" ps -q | head -1)" true >/dev/null 2>&1 || true; sleep 1; done
after=$(grep -c 'key="exit137_' "$lab/audit/audit.log" || true)
all=$(grep -c 'type=SYSCALL' "$lab/audit/audit.log" || true)
echo "rule pack cost: $((after - before)) records with exit137 keys in ${secs} s ($(awk "BEGIN{printf \"%.2f\", ($after-$before)/$secs}")/s); $all SYSCALL records in the log in all"
