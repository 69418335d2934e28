#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (CI starts from a clean clone):
# auditd (ausearch, auditctl), the container lab's runtimes (containerd, runc, docker.io),
# busybox-static for a container rootfs without a registry, bindfs for the FUSE stuck kill,
# rsyslog for real syslog prefixes, redis-server for BullMQ (tests start their own on loopback),
# curl and maven for the Elasticsearch 8 test node (test/es, from Maven Central), GNU time
# for the benchmarks, docker-compose to check docker-compose.yml (no stack runs here), and
# chromium for the HTML report's test (driven headless by puppeteer-core, which downloads no browser),
# and systemd-journal-remote to write a real journal file for the node form (journald does not run here).
set -euo pipefail
need=()
command -v ausearch >/dev/null || need+=(auditd)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
command -v dockerd >/dev/null || need+=(docker.io)
command -v busybox >/dev/null || need+=(busybox-static)
command -v bindfs >/dev/null || need+=(bindfs)
[ -x /usr/bin/time ] || need+=(time)
command -v rsyslogd >/dev/null || need+=(rsyslog)
command -v redis-server >/dev/null || need+=(redis-server)
command -v curl >/dev/null || need+=(curl)
command -v mvn >/dev/null || need+=(maven)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v chromium >/dev/null || need+=(chromium)
[ -x /lib/systemd/systemd-journal-remote ] || need+=(systemd-journal-remote)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to apt-get install ${need[*]}" >&2; exit 1; fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# Go for the Kubernetes manifests' validator (deploy/kubernetes/validate)
bash "$(dirname "$0")/kubernetes/setup-go.sh"
# The Debian packages start system daemons; the lab runs private ones and must not fight them.
for s in docker containerd auditd rsyslog redis-server; do systemctl stop "$s" 2>/dev/null || service "$s" stop 2>/dev/null || true; done
echo "setup: $(ausearch -v 2>&1 | head -1); containerd $(containerd --version | awk '{print $3}'); $(dockerd --version)"
