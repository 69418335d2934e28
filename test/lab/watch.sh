#!/usr/bin/env bash
# `exit137 watch` on the lab's private auditd, containerd and dockerd: three deaths, with watch
# killed by SIGKILL in the settle window of the second and started again on its state file.
# Writes OUTDIR/watch.ndjson (what both runs of watch printed), watch.err, truth.ndjson.
# Usage: EXIT137_SLACK_WEBHOOK_URL=http://127.0.0.1:PORT/hook watch.sh OUTDIR   (root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
out=$(realpath -m "${1:?usage: watch.sh OUTDIR}")
mkdir -p "$out"
lab=$(mktemp -d /tmp/exit137-watch.XXXXXX)
pids=()
truth=()
watch_pid=""
runs=0

die() { echo "lab: $*" >&2; exit 1; }
for c in auditd auditctl containerd runc dockerd docker ctr busybox; do command -v "$c" >/dev/null || die "missing $c (apt-get install auditd containerd runc docker.io busybox-static)"; done
[ "$(id -u)" = 0 ] || die "needs root"

cleanup() {
  set +e
  [ -n "$watch_pid" ] && kill -9 "$watch_pid" 2>/dev/null
  lab_teardown "$lab"
}
trap cleanup EXIT

audit_start "$lab/audit" ENRICHED
audit_rules_load
to_file() { cat >> "$out/$1.log"; }
runtimes_start "$lab" to_file
pids+=("${LAB_PIDS[@]}")
busybox_image "$lab"

start_watch() {
  EXIT137_STATE_DIR="$out/state" EXIT137_SETTLE_MS=3000 node "$here/../../bin/exit137.js" watch --json \
    --audit-log "$lab/audit/audit.log" --no-journal --syslog '' --no-collect \
    --docker-host "unix://$lab/docker.sock" --containerd-address "$lab/containerd.sock" \
    "$out/dockerd.log" "$out/containerd.log" >> "$out/watch.ndjson" 2>> "$out/watch.err" &
  watch_pid=$!
  runs=$((runs + 1))
  for _ in $(seq 100); do [ "$(grep -c "watching as" "$out/watch.err" 2>/dev/null || true)" -ge "$runs" ] && return; sleep 0.1; done
  die "watch did not start: $(cat "$out/watch.err")"
}
# waits until watch has printed N verdicts in all
printed() {  # N SECONDS
  for _ in $(seq $(($2 * 10))); do [ "$(grep -c incident_id "$out/watch.ndjson" 2>/dev/null || true)" -ge "$1" ] && return; sleep 0.1; done
  die "watch printed $(grep -c incident_id "$out/watch.ndjson" || true) verdicts, expected $1: $(tail -n 5 "$out/watch.err")"
}
record() { truth+=("{\"scenario\":\"$1\",\"container\":\"$2\",\"cause\":\"$3\",\"sub_cause\":\"$4\"}"); }
cid() { "${docker[@]}" inspect -f '{{.Id}}' "$1"; }
: > "$out/watch.ndjson"

start_watch

# 1. docker kill
"${docker[@]}" run -d --network none --name w-kill busybox:lab sleep 1000 >/dev/null
sleep 1
"${docker[@]}" kill w-kill >/dev/null
record docker-kill "$(cid w-kill)" external-kill docker-kill
printed 1 30

# 2. a stop whose grace runs out; watch is killed with SIGKILL while its settle window is open
"${docker[@]}" run -d --network none --name w-stop busybox:lab sh -c "trap '' TERM; while true; do sleep 1; done" >/dev/null
sleep 1
"${docker[@]}" stop -t 1 w-stop >/dev/null
record stop-timeout "$(cid w-stop)" stop-timeout docker-stop
sleep 1
kill -9 "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
echo "lab: watch killed with SIGKILL" >> "$out/watch.err"
start_watch
printed 2 40

# 3. a memory cgroup OOM, seen by the second run only
"${docker[@]}" run -d --network none -m 32m --memory-swap 32m --name w-oom busybox:lab sh -c 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done' >/dev/null
"${docker[@]}" wait w-oom >/dev/null || true
record memcg-oom "$(cid w-oom)" oom-kill memcg-oom
printed 3 40

sleep 8   # past another settle window: nothing may come twice
kill -TERM "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
watch_pid=""
printf '%s\n' "${truth[@]}" > "$out/truth.ndjson"
echo "lab: watch printed $(grep -c incident_id "$out/watch.ndjson") verdicts for 3 deaths"
