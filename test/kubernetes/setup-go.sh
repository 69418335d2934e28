#!/usr/bin/env bash
# Go for deploy/kubernetes/validate, which needs Go >= 1.26 (k8s.io/api 0.37). This kind of
# machine keeps one in /usr/local/go. A Go from 1.21 on that is older fetches the newer toolchain
# itself from the Go module proxy (the test runs it with GOTOOLCHAIN=auto). With no such Go,
# Debian's golang-go (1.19, before toolchain switching) bootstraps one: the toolchain is the module
# golang.org/toolchain on the proxy, unpacked into /usr/local/go.
set -euo pipefail
TOOLCHAIN=go1.26.0
root=${EXIT137_GOROOT:-/usr/local/go}
usable() { "$1" version 2>/dev/null | awk '{ split(substr($3, 3), v, "."); exit !(v[1] + 0 > 1 || v[2] + 0 >= 21) }'; }
for g in "$root/bin/go" $(command -v go || true); do
  if [ -x "$g" ] && usable "$g"; then echo "setup: $("$g" version)"; exit 0; fi
done
if [ -e "$root" ]; then echo "setup: $root holds a Go older than 1.21: remove it, or put Go >= 1.21 on PATH" >&2; exit 1; fi
if ! command -v go >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to apt-get install golang-go" >&2; exit 1; fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mod=golang.org/toolchain@v0.0.1-$TOOLCHAIN.linux-$(dpkg --print-architecture)
(cd "$tmp" && GOPATH=$tmp/gopath GOMODCACHE=$tmp/mod GOFLAGS=-modcacherw GO111MODULE=on go mod download "$mod")
cp -a "$tmp/mod/$mod" "$root"
# a module zip keeps no file modes
chmod -R u+w "$root"
chmod +x "$root"/bin/* "$root"/pkg/tool/*/*
echo "setup: $("$root/bin/go" version)"
