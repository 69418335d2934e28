#!/usr/bin/env bash
# Runs a command with a private auditd writing to DIR/audit.log and (unless --no-rules) the
# exit137 rule pack loaded; removes both afterwards. Usage: with-auditd.sh DIR [--no-rules] -- CMD…
set -euo pipefail
source "$(dirname "$0")/lib.sh"
dir=$(realpath -m "${1:?usage: with-auditd.sh DIR [--no-rules] -- CMD…}"); shift
rules=1
[ "${1:-}" = "--no-rules" ] && { rules=0; shift; }
[ "${1:-}" = "--" ] && shift
trap audit_stop EXIT
audit_start "$dir" RAW
[ $rules = 1 ] && audit_rules_load
"$@"
