#!/usr/bin/env bash
# The container lab: a private auditd, containerd and dockerd (own directories and sockets),
# the exit137 rule pack loaded by key, and one death caused on purpose per scenario.
# Captures every stream exit137 reads into OUTDIR, with truth.json saying what each death was.
# Usage: containers.sh OUTDIR        (root; Debian packages auditd containerd runc docker.io busybox-static)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
out=$(realpath -m "${1:?usage: containers.sh OUTDIR}")
mkdir -p "$out"
lab=$(mktemp -d /tmp/exit137-lab.XXXXXX)
pids=()
truth=()

die() { echo "lab: $*" >&2; exit 1; }
for c in auditd auditctl containerd runc dockerd docker ctr busybox rsyslogd logger; do command -v "$c" >/dev/null || die "missing $c (apt-get install auditd containerd runc docker.io busybox-static rsyslog)"; done
[ "$(id -u)" = 0 ] || die "needs root"
[ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || die "no memory cgroup on this machine"

cleanup() {
  set +e
  auditctl -D -k "${ALL_SIGNALS_KEY:-exit137_lab_all_signals}" >/dev/null 2>&1
  lab_teardown "$lab"
}
trap cleanup EXIT

# --- auditd writing to the lab's own log, with the project's rule pack ---
audit_start "$lab/audit" "${AUDIT_FORMAT:-ENRICHED}"
audit_rules_load
# What a node with a catch-all rule records: every signal, the Go runtimes' SIGURG storms included.
# exit137 must take none of them for a kill.
ALL_SIGNALS_KEY=exit137_lab_all_signals
auditctl -a always,exit -F arch=b64 -S kill,tkill,tgkill -k "$ALL_SIGNALS_KEY" >/dev/null

# --- a syslog daemon in another zone (+08:00), so /var/log/messages-style prefixes are real ---
cat > "$lab/rsyslog.conf" <<EOF
global(workDirectory="$lab")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$lab/log.sock" CreatePath="on")
*.* action(type="omfile" file="$out/messages" template="RSYSLOG_TraditionalFileFormat")
EOF
TZ=Asia/Shanghai rsyslogd -n -f "$lab/rsyslog.conf" -i "$lab/rsyslog.pid" & pids+=($!)
for _ in $(seq 50); do [ -S "$lab/log.sock" ] && break; sleep 0.1; done
[ -S "$lab/log.sock" ] || die "rsyslogd did not start"
# each daemon's output goes to its own file as written, and line by line to syslog under its name
to_logs() { tee "$out/$1.log" | logger --socket-errors=off -u "$lab/log.sock" -t "$1" -p daemon.info; }

# --- containerd (v1 shims with debug so their crash dumps reach the log) and dockerd on it ---
runtimes_start "$lab" to_logs
pids+=("${LAB_PIDS[@]}")
# stderr apart: when containerd stops at teardown, ctr prints "transport is closing" there
"${ctr[@]}" events > "$out/ctr-events.txt" 2> "$lab/ctr-events.err" & ctr_events=$!; pids+=($ctr_events)
"${docker[@]}" events --format '{{json .}}' > "$out/docker-events.json" 2> "$lab/docker-events.err" & docker_events=$!; pids+=($docker_events)

# --- a busybox image and rootfs from the Debian package ---
busybox_image "$lab"

mark="exit137-lab-$$"
lab_start=$(date +%s.%N)
echo "$mark" > /dev/kmsg
record() { truth+=("{\"scenario\":\"$1\",\"container\":\"$2\",\"cause\":\"$3\",\"sub_cause\":\"$4\"}"); }
cid() { "${docker[@]}" inspect -f '{{.Id}}' "$1"; }
cpid() { "${docker[@]}" inspect -f '{{.State.Pid}}' "$1"; }

# The rules are in force before the first scenario (auditctl -R returns when the kernel has them).
auditctl -l | grep -q 'key=exit137_kill' || die "the rule pack did not load"

# 1. v2 shim killed with SIGKILL. Its `start` process forks the shim daemon and exits: wait until
# one process is left, so the SIGKILL goes to the daemon that serves the container, not to the
# starter on its way out.
"${ctr[@]}" run -d --runtime io.containerd.runc.v2 --rootfs "$lab/rootfs" lab-shim-v2 /bin/sh -c 'sleep 1000' >/dev/null
shim=""
for _ in $(seq 50); do
  shims=$(pgrep -f 'containerd-shim-runc-v2 .*-id lab-shim-v2( |$)' || true)
  if [ "$(printf '%s\n' "$shims" | grep -c .)" = 1 ] && [[ "$(tr '\0' ' ' < "/proc/$shims/cmdline" 2>/dev/null)" != *" start "* ]]; then shim=$shims; break; fi
  sleep 0.1
done
[ -n "$shim" ] || die "no single v2 shim daemon for lab-shim-v2: $shims"
sleep 1
# /bin/kill, not the shell's builtin: the kernel gives a task an audit context only if audit had
# been enabled at least once since boot when the task was forked (kernel/auditsc.c audit_alloc,
# audit_ever_enabled). On a machine booted without audit=1 this shell predates audit_start, so a
# builtin kill leaves no record at all; a process forked now is audited, as a user's shell on a
# node that audits from boot is.
/bin/kill -9 "$shim"
sleep 3
record shim-v2-killed lab-shim-v2 shim-death shim-killed

# 2. v1 shim crashed (SIGSEGV: the Go runtime dumps and dies)
"${ctr[@]}" run -d --runtime io.containerd.runtime.v1.linux --rootfs "$lab/rootfs" lab-shim-v1 /bin/sh -c 'sleep 1000' >/dev/null
sleep 1
kill -SEGV "$(pgrep -f 'containerd-shim .*lab-shim-v1')"
sleep 3
record shim-v1-crashed lab-shim-v1 shim-death shim-crashed

# 3. docker stop -t 2 of a process that ignores SIGTERM
"${docker[@]}" run -d --network none --name stop-timeout busybox:lab sh -c "trap '' TERM; while true; do sleep 1; done" >/dev/null
sleep 1
id=$(cid stop-timeout)
"${docker[@]}" stop -t 2 stop-timeout >/dev/null
record stop-timeout "$id" stop-timeout docker-stop

# 4. memory cgroup OOM
"${docker[@]}" run -d --network none -m 32m --memory-swap 32m --name oom busybox:lab sh -c 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done' >/dev/null
id=$(cid oom)
"${docker[@]}" wait oom >/dev/null || true
record memcg-oom "$id" oom-kill memcg-oom

# 5. kill -9 of the init by a logged-in user (login uid set in the killing shell)
"${docker[@]}" run -d --network none --name user-kill busybox:lab sleep 1000 >/dev/null
sleep 1
id=$(cid user-kill); p=$(cpid user-kill)
sh -c "echo 1000 > /proc/self/loginuid; kill -9 $p"
sleep 1
record logged-in-kill "$id" external-kill logged-in-user

# 6. docker kill (SIGKILL by default)
"${docker[@]}" run -d --network none --name docker-kill busybox:lab sleep 1000 >/dev/null
sleep 1
id=$(cid docker-kill)
"${docker[@]}" kill docker-kill >/dev/null
sleep 1
record docker-kill "$id" external-kill docker-kill

# 7. decoys: a well-behaved stop (exit 0, then the benign shim lines), and SIGKILL of a host process
"${docker[@]}" run -d --network none --name good-stop busybox:lab sh -c 'trap "exit 0" TERM; while true; do sleep 1; done' >/dev/null
sleep 1
id=$(cid good-stop)
"${docker[@]}" stop -t 10 good-stop >/dev/null
record decoy-normal-stop "$id" none none
sleep 1000 & hp=$!; kill -9 "$hp"; wait "$hp" 2>/dev/null || true
record decoy-host-kill "host-pid-$hp" none none

# 9. docker stop -t 0: no grace at all, SIGKILL right after SIGTERM
"${docker[@]}" run -d --network none --name stop-zero busybox:lab sh -c "trap '' TERM; while true; do sleep 1; done" >/dev/null
sleep 1
id=$(cid stop-zero)
"${docker[@]}" stop -t 0 stop-zero >/dev/null
record stop-zero "$id" stop-timeout docker-stop

# 10. twenty containers killed within a second by three causes at once: none may take another's
mix=()
for i in $(seq 1 20); do
  "${docker[@]}" run -d --network none --name "mix-$i" busybox:lab sh -c "trap '' TERM; while true; do sleep 1; done" >/dev/null
  mix+=("mix-$i")
done
sleep 1
declare -A mixid mixpid
for n in "${mix[@]}"; do mixid[$n]=$(cid "$n"); mixpid[$n]=$(cpid "$n"); done
killers=()
for i in $(seq 1 20); do
  n="mix-$i"
  if [ "$i" -le 7 ]; then "${docker[@]}" kill "$n" >/dev/null &
  elif [ "$i" -le 14 ]; then sh -c "echo 1000 > /proc/self/loginuid; kill -9 ${mixpid[$n]}" &
  else "${docker[@]}" stop -t 0 "$n" >/dev/null &
  fi
  killers+=($!)
done
# only the killers: a bare `wait` would also wait for the lab's daemons
wait "${killers[@]}" || true
sleep 2
for i in $(seq 1 20); do
  n="mix-$i"
  if [ "$i" -le 7 ]; then record "$n-docker-kill" "${mixid[$n]}" external-kill docker-kill
  elif [ "$i" -le 14 ]; then record "$n-user-kill" "${mixid[$n]}" external-kill logged-in-user
  else record "$n-stop-zero" "${mixid[$n]}" stop-timeout docker-stop
  fi
done

# 8. a stuck kill (seed 003): the init holds a file on a FUSE mount whose daemon is stopped
if command -v bindfs >/dev/null; then
  mkdir -p "$lab/fuse-src" "$lab/fuse-mnt"; echo data > "$lab/fuse-src/file"
  bindfs "$lab/fuse-src" "$lab/fuse-mnt"
  fusepid=$(pgrep -n -f "bindfs $lab/fuse-src")
  old_hung=$(cat /proc/sys/kernel/hung_task_timeout_secs)
  old_warn=$(cat /proc/sys/kernel/hung_task_warnings)
  echo 5 > /proc/sys/kernel/hung_task_timeout_secs
  # the kernel reports only hung_task_warnings hung tasks per boot (default 10): allow ours
  echo -1 > /proc/sys/kernel/hung_task_warnings
  "${docker[@]}" run -d --network none --name stuck -v "$lab/fuse-mnt:/mnt" busybox:lab sh -c 'exec 3>>/mnt/file; exec sleep 1000' >/dev/null
  sleep 1
  id=$(cid stuck)
  kill -STOP "$fusepid"
  timeout 3 "${docker[@]}" kill stuck >/dev/null 2>&1 || true
  sleep 40   # past the stuck-kill threshold, with hung-task reports every 5 s
  kill -CONT "$fusepid"
  sleep 2
  record stuck-kill "$id" stuck-kill fuse-request

  # 11. a stop that escalates into a stuck kill: SIGTERM ignored, the grace runs out, and the SIGKILL
  # then hangs in a FUSE flush; dockerd falls back to a direct SIGKILL and gives up. A mount of its
  # own: a FUSE connection whose daemon once answered FLUSH with ENOSYS never sends FLUSH again.
  mkdir -p "$lab/fuse-mnt2"
  bindfs "$lab/fuse-src" "$lab/fuse-mnt2"
  fusepid2=$(pgrep -n -f "bindfs $lab/fuse-src $lab/fuse-mnt2")
  "${docker[@]}" run -d --network none --name stuck-stop -v "$lab/fuse-mnt2:/mnt" busybox:lab sh -c "trap '' TERM; exec 3>>/mnt/file; exec sleep 1000" >/dev/null
  sleep 1
  id=$(cid stuck-stop)
  kill -STOP "$fusepid2"
  timeout 20 "${docker[@]}" stop -t 2 stuck-stop >/dev/null 2>&1 || true
  sleep 30
  kill -CONT "$fusepid2"
  sleep 2
  umount -l "$lab/fuse-mnt2" 2>/dev/null || true
  record stuck-stop "$id" stuck-kill fuse-request

  echo "$old_hung" > /proc/sys/kernel/hung_task_timeout_secs
  echo "$old_warn" > /proc/sys/kernel/hung_task_warnings
  umount -l "$lab/fuse-mnt" 2>/dev/null || true
fi

# 12. dockerd restarts while a container runs, without live-restore: on its way back up it shuts
# down every container containerd still runs (SIGTERM, which a pid 1 sleep ignores, then SIGKILL)
"${docker[@]}" run -d --network none --name restart-victim busybox:lab sleep 1000 >/dev/null
sleep 1
id=$(cid restart-victim)
dockerd_pid=$(cat "$lab/docker.pid")
kill -9 "$dockerd_pid"
kill "$docker_events" 2>/dev/null || true
for _ in $(seq 50); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
rm -f "$lab/docker.pid" "$lab/docker.sock"
# the restarted daemon's lines go on in the same files
to_logs_more() { tee -a "$out/$1.log" | logger --socket-errors=off -u "$lab/log.sock" -t "$1" -p daemon.info; }
dockerd_start "$lab" to_logs_more
pids+=("$DOCKERD_PID")
"${docker[@]}" events --format '{{json .}}' >> "$out/docker-events.json" 2>> "$lab/docker-events.err" & docker_events=$!; pids+=($docker_events)
"${docker[@]}" wait restart-victim >/dev/null 2>&1 || true
sleep 1
record runtime-restart "$id" runtime-restart docker-restart

sleep 3   # let logger and rsyslogd write the last lines
# the capture ends here: teardown's own events are not part of it
kill "$ctr_events" "$docker_events" 2>/dev/null || true
dmesg --time-format iso | sed -n "/$mark/,\$p" | tail -n +2 > "$out/dmesg.txt"
audit_rules_remove
auditctl -D -k "$ALL_SIGNALS_KEY" >/dev/null 2>&1 || true
sleep 0.5
cp "$lab/audit/audit.log" "$out/audit.log"
printf '%s\n' "${truth[@]}" > "$out/truth.ndjson"

# The node form: `analyze` with no inputs, this lab as the node (its audit log, its syslog file, its
# dockerd), run while the daemons still hold their state; the live test compares its verdicts
# with those of the captured files, and reads which sources it says it read.
node "$here/../../bin/exit137.js" analyze --json --all --since "@$lab_start" --lead-in 0 \
  --audit-log "$lab/audit/audit.log" --syslog "$out/messages" --no-journal \
  --docker-host "unix://$lab/docker.sock" --containerd-address "$lab/containerd.sock" > "$out/node-verdicts.ndjson" 2> "$out/node-sources.txt"
echo "lab: captured $(wc -l < "$out/audit.log") audit, $(wc -l < "$out/containerd.log") containerd, $(wc -l < "$out/dockerd.log") dockerd lines; $(wc -l < "$out/truth.ndjson") scenarios"
