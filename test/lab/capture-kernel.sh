#!/usr/bin/env bash
# Captures real kernel reports: a memory-cgroup OOM kill (cgroup v1), an OOM kill of the wrong
# victim (a small helper with oom_score_adj 1000 beside the hog), and a hung task stuck in
# FUSE (seed 003's stuck kill, reproduced with bindfs). Writes the kernel log both as `dmesg`
# prints it (seconds since boot) and with ISO times, plus the stuck task's /proc stack.
# Usage: capture-kernel.sh OUTDIR   (needs root, cgroup v1 memory, bindfs)
set -euo pipefail
out=$(realpath -m "${1:?usage: capture-kernel.sh OUTDIR}")
mkdir -p "$out"
work=$(mktemp -d /tmp/exit137-kernel.XXXXXX)
cg=/sys/fs/cgroup/memory/exit137-lab-oom
cg_adj=/sys/fs/cgroup/memory/exit137-lab-oom-adj
old_hung=$(cat /proc/sys/kernel/hung_task_timeout_secs)
old_warn=$(cat /proc/sys/kernel/hung_task_warnings)
fusepid=""; stuck=""; helper=""
cleanup() {
  [ -n "$fusepid" ] && kill -CONT "$fusepid" 2>/dev/null || true
  sleep 0.5
  umount -l "$work/mnt" 2>/dev/null || true
  [ -n "$stuck" ] && kill -9 "$stuck" 2>/dev/null || true
  echo "$old_hung" > /proc/sys/kernel/hung_task_timeout_secs
  echo "$old_warn" > /proc/sys/kernel/hung_task_warnings
  [ -n "$helper" ] && kill -9 "$helper" 2>/dev/null || true
  sleep 0.2
  rmdir "$cg" "$cg_adj" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
boot_iso=$(date -u -d "@$(( $(date +%s) - $(cut -d. -f1 /proc/uptime) ))" +%Y-%m-%dT%H:%M:%SZ)
mark="exit137-lab-kernel-capture-$$"
echo "$mark" > /dev/kmsg

# 1. memcg OOM: a 32 MiB cgroup, a process that wants 100 MiB
mkdir -p "$cg"
echo $((32 << 20)) > "$cg/memory.limit_in_bytes"
[ -f "$cg/memory.memsw.limit_in_bytes" ] && echo $((32 << 20)) > "$cg/memory.memsw.limit_in_bytes"
sh -c "echo \$\$ > $cg/cgroup.procs; exec python3 -c 'b = bytearray(100 << 20); b[::4096] = b\"x\" * (len(b) // 4096)'" || echo "oom: exit $?"

# 1b. the wrong victim: a 64 MiB cgroup, a 6 MiB helper whose oom_score_adj is 1000 (adj adds
# thousandths of the limit to its badness), then a hog that wants 100 MiB. The kernel kills the
# helper first, which frees too little, then the hog: two reports.
mkdir -p "$cg_adj"
echo $((64 << 20)) > "$cg_adj/memory.limit_in_bytes"
[ -f "$cg_adj/memory.memsw.limit_in_bytes" ] && echo $((64 << 20)) > "$cg_adj/memory.memsw.limit_in_bytes"
sh -c "echo \$\$ > $cg_adj/cgroup.procs; echo 1000 > /proc/\$\$/oom_score_adj; exec python3 -c 'import time; b = bytearray(6 << 20); b[::4096] = b\"x\" * (len(b) // 4096); time.sleep(60)'" &
helper=$!
sleep 1
sh -c "echo \$\$ > $cg_adj/cgroup.procs; exec python3 -c 'b = bytearray(100 << 20); b[::4096] = b\"x\" * (len(b) // 4096)'" || echo "oom (adj): exit $?"
kill -9 "$helper" 2>/dev/null || true; wait "$helper" 2>/dev/null || true; helper=""

# 2. stuck kill through FUSE: the pid namespace's init holds a file on a bindfs mount whose daemon is stopped
mkdir -p "$work/src" "$work/mnt"; echo data > "$work/src/file"
bindfs "$work/src" "$work/mnt"
fusepid=$(pgrep -n -f "bindfs $work/src")
echo 5 > /proc/sys/kernel/hung_task_timeout_secs
# the kernel reports only hung_task_warnings hung tasks per boot (default 10): allow ours
echo -1 > /proc/sys/kernel/hung_task_warnings
unshare --pid --fork sh -c "exec 3>>$work/mnt/file; exec sleep 1000" &
sleep 0.5
stuck=$(pgrep -n -f "sleep 1000")
kill -STOP "$fusepid"
kill -9 "$stuck"
sleep 12
cat "/proc/$stuck/stack" > "$out/stuck-task.stack" 2>/dev/null || true
grep -E '^(State|Name|Pid)' "/proc/$stuck/status" >> "$out/stuck-task.stack" 2>/dev/null || true
kill -CONT "$fusepid"; fusepid=""
sleep 1

# the kernel log since the mark, two renderings
dmesg | sed -n "/$mark/,\$p" | tail -n +2 > "$out/dmesg.txt"
dmesg --time-format iso | sed -n "/$mark/,\$p" | tail -n +2 > "$out/dmesg-iso.txt"
echo "$boot_iso" > "$out/boot-time"
echo "captured: $(wc -l < "$out/dmesg.txt") kernel lines; boot $boot_iso"
