#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (CI starts from a clean clone):
# auditd for ausearch/auditctl (the decoder is compared with ausearch on the same file).
# Later stages add redis-server, Elasticsearch and the container lab here.
set -euo pipefail
need=()
command -v ausearch >/dev/null || need+=(auditd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to apt-get install ${need[*]}" >&2; exit 1; fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi
echo "setup: ausearch $(ausearch -v 2>&1 | head -1)"
