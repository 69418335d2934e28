# Shared by the lab scripts: a private auditd writing to a directory of ours, and the rule pack
# loaded and removed by key. Source it; call audit_start DIR FORMAT and audit_stop.
EXIT137_KEYS=(exit137_kill exit137_term exit137_abort exit137_segv exit137_quit)
EXIT137_RULES="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/rules/exit137-signals.rules"
_audit_pid=""
_audit_was_enabled=""

audit_start() {  # DIR FORMAT(RAW|ENRICHED)
  local dir=$1 format=${2:-ENRICHED}
  mkdir -p "$dir"
  _audit_was_enabled=$(auditctl -s | awk '/^enabled/{print $2}')
  _audit_backlog_was=$(auditctl -s | awk '/^backlog_limit/{print $2}')
  # The kernel's own backlog is 64 records until something sets it (auditd's packaged rules say -b
  # 8192; a private auditd loads none). A burst beyond it while auditd is slow to drain, as on a cold
  # machine or under load, is held then dropped: the v2 shim's SIGKILL record went missing that way.
  auditctl -b 8192 >/dev/null
  sed -e "s|^log_file.*|log_file = $dir/audit.log|" -e "s|^log_format.*|log_format = $format|" \
      -e "s|^flush.*|flush = INCREMENTAL_ASYNC|" -e "s|^write_logs.*|write_logs = yes|" /etc/audit/auditd.conf > "$dir/auditd.conf"
  chmod 0640 "$dir/auditd.conf"
  auditd -n -c "$dir" & _audit_pid=$!
  for _ in $(seq 50); do [ -s "$dir/audit.log" ] && break; sleep 0.1; done
  [ -s "$dir/audit.log" ] || { echo "lab: auditd did not start (kernel audit unavailable?)" >&2; return 1; }
  auditctl -e 1 >/dev/null
}

audit_rules_load() { auditctl -R "$EXIT137_RULES" >/dev/null; }
audit_rules_remove() { for k in "${EXIT137_KEYS[@]}"; do auditctl -D -k "$k" >/dev/null 2>&1 || true; done; }

audit_stop() {
  audit_rules_remove
  if [ -n "$_audit_pid" ]; then kill "$_audit_pid" 2>/dev/null || true; wait "$_audit_pid" 2>/dev/null || true; fi
  _audit_pid=""
  auditctl -e "${_audit_was_enabled:-0}" >/dev/null 2>&1 || true
  [ -n "${_audit_backlog_was:-}" ] && auditctl -b "$_audit_backlog_was" >/dev/null 2>&1 || true
}

# A private containerd and dockerd under LAB (own root, state and sockets; no networking).
# Their output goes to the function named by SINK, called with the daemon's name (default: dropped).
# Sets LAB_PIDS (append to your own list for teardown), and the ctr/docker command arrays.
LAB_PIDS=()
_drop() { cat > /dev/null; }
runtimes_start() {  # LAB [SINK]
  local lab=$1 sink=${2:-_drop}
  mkdir -p "$lab/containerd"
  cat > "$lab/containerd.toml" <<EOF2
version = 2
root = "$lab/containerd/root"
state = "$lab/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$lab/containerd.sock"
[ttrpc]
  address = "$lab/containerd.sock.ttrpc"
[debug]
  level = "debug"
[plugins."io.containerd.runtime.v1.linux"]
  shim_debug = true
EOF2
  containerd --config "$lab/containerd.toml" > >("$sink" containerd) 2>&1 & LAB_PIDS+=($!)
  for _ in $(seq 100); do [ -S "$lab/containerd.sock" ] && break; sleep 0.1; done
  ctr=(ctr --address "$lab/containerd.sock")
  dockerd_start "$lab" "$sink"
}

# dockerd alone, on the lab's containerd (a restart: its pid is the last of LAB_PIDS, DOCKERD_PID)
dockerd_start() {  # LAB [SINK]
  local lab=$1 sink=${2:-_drop}
  dockerd --data-root "$lab/docker" --exec-root "$lab/docker-exec" --host "unix://$lab/docker.sock" --pidfile "$lab/docker.pid" \
    --containerd "$lab/containerd.sock" --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs --debug > >("$sink" dockerd) 2>&1 & LAB_PIDS+=($!)
  DOCKERD_PID=$!
  for _ in $(seq 150); do [ -S "$lab/docker.sock" ] && docker -H "unix://$lab/docker.sock" info >/dev/null 2>&1 && break; sleep 0.2; done
  docker=(docker -H "unix://$lab/docker.sock")
}

# busybox:lab, imported from a rootfs made of Debian's busybox-static (no registry needed)
busybox_image() {  # LAB
  local lab=$1
  mkdir -p "$lab/rootfs/bin" "$lab/rootfs/proc" "$lab/rootfs/dev" "$lab/rootfs/sys" "$lab/rootfs/tmp"
  cp "$(command -v busybox)" "$lab/rootfs/bin/busybox"
  for t in sh sleep kill cat true; do ln -sf busybox "$lab/rootfs/bin/$t"; done
  tar -C "$lab/rootfs" -c . | "${docker[@]}" import - busybox:lab >/dev/null
}

# Tears a lab down: auditd and its rules, every container, the caller's processes (its `pids`
# array), leftovers under LAB, its mounts, LAB itself. For an EXIT trap; never fails.
lab_teardown() {  # LAB
  local lab=$1
  audit_stop
  [ -S "$lab/docker.sock" ] && docker -H "unix://$lab/docker.sock" rm -f $(docker -H "unix://$lab/docker.sock" ps -aq 2>/dev/null) >/dev/null 2>&1
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  pkill -9 -f "$lab" 2>/dev/null
  umount -R "$lab"/docker-exec 2>/dev/null; umount -R "$lab"/docker 2>/dev/null; umount -R "$lab"/containerd 2>/dev/null
  rm -rf "$lab" 2>/dev/null
  return 0
}
