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
}
