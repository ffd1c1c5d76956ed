#!/usr/bin/env bash
# Installs what GLB needs on Debian/Ubuntu, only when it is missing, so the quick-start commands
# work on a fresh machine with Swift installed.
#   scripts/bootstrap.sh          build + test needs: OpenSSL and SQLite headers, dig, openssl, curl,
#                                 python3, python3-venv (the API fuzzer) and procps (the README test)
#   scripts/bootstrap.sh --bench  also the benchmark anchors and load tools (scripts/bench), and
#                                 serf, iptables and python3-msgpack for scripts/bench-gossip.sh
#   scripts/bootstrap.sh --debugger  also gdb, which scripts/test.sh uses to print a hung run's stacks
set -euo pipefail

packages=(libssl-dev libsqlite3-dev bind9-dnsutils openssl curl python3 python3-venv procps)
if [[ ${1:-} == --bench ]]; then
  packages+=(nginx haproxy gdnsd knot dnsperf wrk knot-dnsutils socat python3 serf iptables python3-msgpack)
elif [[ ${1:-} == --debugger ]]; then
  packages+=(gdb)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "bootstrap: Swift 6 is not on PATH; install it from https://www.swift.org/install/linux/" >&2
  exit 1
fi
