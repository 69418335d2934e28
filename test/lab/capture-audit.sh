#!/usr/bin/env bash
# Captures real kernel audit records of every signal path, in auditd's RAW and ENRICHED formats,
# with a private auditd writing to its own directory and the project's rule pack (by key).
# Usage: capture-audit.sh OUTDIR   (needs root and a kernel with audit)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out=$(realpath -m "${1:?usage: capture-audit.sh OUTDIR}")
work=$(mktemp -d /tmp/exit137-audit.XXXXXX)
mkdir -p "$out"
cleanup() {
  audit_stop
  rm -rf "$work"
}
trap cleanup EXIT

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
  audit_start "$work/$format" "$format"
  audit_rules_load
  signal_every_path
  sleep 0.5
  audit_stop
  cp "$work/$format/audit.log" "$out/audit-$(echo "$format" | tr A-Z a-z).log"
}

capture RAW
capture ENRICHED
echo "captured: $(wc -l "$out"/audit-*.log | tail -1)"
