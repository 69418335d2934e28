#!/usr/bin/env bash
# Captures real kernel audit records of every signal path, in auditd's RAW and ENRICHED formats,
# with a private auditd writing to its own directory. Rules are added and removed by key.
# Usage: capture-audit.sh OUTDIR   (needs root and a kernel with audit)
set -euo pipefail
out=$(realpath -m "${1:?usage: capture-audit.sh OUTDIR}")
key=exit137_lab_capture
work=$(mktemp -d /tmp/exit137-audit.XXXXXX)
mkdir -p "$out"
was_enabled=$(auditctl -s | awk '/^enabled/{print $2}')
apid=""
cleanup() {
  auditctl -D -k "$key" >/dev/null 2>&1 || true
  [ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null || true
  auditctl -e "${was_enabled:-0}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

rules() {
  for arch in b64 b32; do
    for sig in 9 15; do
      auditctl -a always,exit -F arch=$arch -S kill,tkill,rt_sigqueueinfo -F a1=$sig -k "$key"
      auditctl -a always,exit -F arch=$arch -S tgkill,rt_tgsigqueueinfo -F a2=$sig -k "$key"
      # auditd 3.0.9's syscall table predates pidfd_send_signal: name it by number (424 on every arch)
      auditctl -a always,exit -F arch=$arch -S 424 -F a1=$sig -k "$key"
    done
  done
}

signal_every_path() {
  # kill(2) SIGKILL from /bin/kill, as a person would
  sleep 1000 </dev/null >/dev/null 2>&1 & p=$!
  /bin/kill -9 "$p"; wait "$p" 2>/dev/null || true
  # the other paths from one process whose argv is longer than the 128 bytes PROCTITLE keeps
  python3 - "--padding=$(printf 'x%.0s' $(seq 1 150))" <<'PY'
import ctypes, os, signal, subprocess, time
libc = ctypes.CDLL(None, use_errno=True)
def child():
    p = subprocess.Popen(["sleep", "1000"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.05)
    return p
p = child(); os.kill(p.pid, signal.SIGTERM); p.wait()        # kill(pid, SIGTERM)
p = child(); libc.syscall(234, p.pid, p.pid, 9); p.wait()   # tgkill(tgid, tid, SIGKILL)
p = child(); libc.syscall(200, p.pid, 15); p.wait()         # tkill(tid, SIGTERM)
p = child(); fd = os.pidfd_open(p.pid); signal.pidfd_send_signal(fd, 9); p.wait()
p = child()
info = ctypes.create_string_buffer(128)
ctypes.memmove(info, (ctypes.c_int * 3)(9, 0, -1), 12)      # si_signo=9, si_code=SI_QUEUE
libc.syscall(129, p.pid, 9, info); p.wait()                 # rt_sigqueueinfo(pid, SIGKILL, info)
PY
}

capture() {
  local format=$1
  local dir="$work/$format"
  mkdir -p "$dir"
  sed -e "s|^log_file.*|log_file = $dir/audit.log|" -e "s|^log_format.*|log_format = $format|" \
      -e "s|^flush.*|flush = INCREMENTAL_ASYNC|" -e "s|^write_logs.*|write_logs = yes|" /etc/audit/auditd.conf > "$dir/auditd.conf"
  chmod 0640 "$dir/auditd.conf"
  auditd -n -c "$dir" & apid=$!
  for _ in $(seq 50); do [ -s "$dir/audit.log" ] && break; sleep 0.1; done
  auditctl -e 1 >/dev/null
  rules >/dev/null
  signal_every_path
  sleep 0.5
  auditctl -D -k "$key" >/dev/null
  kill "$apid"; wait "$apid" 2>/dev/null || true; apid=""
  cp "$dir/audit.log" "$out/audit-$(echo "$format" | tr A-Z a-z).log"
}

capture RAW
capture ENRICHED
echo "captured: $(wc -l "$out"/audit-*.log | tail -1)"
