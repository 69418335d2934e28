#!/usr/bin/env bash
# Reproduces seed 001's memory cgroup leak (cgroup v1): short-lived memory cgroups whose process
# read a fresh file (page cache charged to the cgroup) are removed, but the kernel keeps them.
# Writes `exit137 collect --once` samples before and after to OUTDIR/samples.ndjson; drops the
# caches at the end so the machine gets its cgroups back.  Usage: memcg-leak.sh OUTDIR [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:?usage: memcg-leak.sh OUTDIR [ROUNDS]}")
rounds=${2:-60}
mem=/sys/fs/cgroup/memory
[ -f "$mem/cgroup.procs" ] || { echo "lab: no cgroup v1 memory hierarchy at $mem" >&2; exit 1; }
mkdir -p "$out"
work=$(mktemp -d /tmp/exit137-leak.XXXXXX)
trap 'rm -rf "$work"; echo 3 > /proc/sys/vm/drop_caches' EXIT
collect() { node "$here/../../bin/exit137.js" collect --once | grep '"memcg-sample"' >> "$out/samples.ndjson"; }
: > "$out/samples.ndjson"
collect
for i in $(seq "$rounds"); do
  cg="$mem/exit137-leak-$$-$i"
  mkdir "$cg"
  # a child in the cgroup writes a file: its page cache is charged to the cgroup and outlives it
  sh -c "echo \$\$ > $cg/cgroup.procs; head -c 65536 /dev/urandom > $work/f$i"
  rmdir "$cg"
  [ $((i % 20)) = 0 ] && { sleep 1; collect; }
done
sleep 1
collect
grep memory /proc/cgroups > "$out/proc-cgroups-after.txt"
echo "lab: $(wc -l < "$out/samples.ndjson") samples; /proc/cgroups memory: $(cut -f3 "$out/proc-cgroups-after.txt")"
