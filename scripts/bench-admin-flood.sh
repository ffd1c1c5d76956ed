#!/usr/bin/env bash
# A `cmd:` system for the benchmark harness (bench/http-proxy.sh, bench/dns.sh): GLB exactly as
# scripts/bench-proxy.sh or scripts/bench-dns.sh runs it, with its admin API flooded the whole
# time by scripts/lib/admin-flood.py (1,000 idle connections, 20 trickling bodies, a loop of
# writes, reads and oversized bodies). Run beside the plain system in one interleaved run, the
# ratio of the two is what admin load costs the data plane:
#
#   make bench-admin-flood        (both: proxy ka64 and DNS)
#
# The flooder runs in a session of its own, outside this command's process tree, so the
# harness's CPU per request counts GLB only (admin work included, as it should be).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:?usage: bench-admin-flood.sh proxy|dns}
case $kind in
  proxy) export BENCH_ADMIN=${BENCH_ADMIN:-127.0.0.1:18998}; target=(www o1); serve=$here/scripts/bench-proxy.sh ;;
  dns) export BENCH_ADMIN=${BENCH_ADMIN:-127.0.0.1:18999}; target=(www c1); serve=$here/scripts/bench-dns.sh ;;
  *) echo "usage: bench-admin-flood.sh proxy|dns" >&2; exit 2 ;;
esac
pidfile=$(mktemp "${BENCH_TMP:-/tmp}/glb-admin-flood.XXXXXX")
"$serve" &
server=$!
cleanup() {
  [[ -s $pidfile ]] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
  kill -TERM $server 2>/dev/null || true
  wait $server 2>/dev/null || true
  rm -f "$pidfile"
}
trap cleanup EXIT
trap 'exit 0' TERM INT
# The serving agent is the second one the script starts (the first only loads the config):
# wait until its data-plane listener answers.
serving() {
  if [[ $kind == proxy ]]; then
    curl -so /dev/null --max-time 1 "http://${LISTEN:-127.0.0.1:18080}/"
  else
    local dns=${DNS_LISTEN:-127.0.0.1:15353}
    dig +time=1 +tries=1 @"${dns%:*}" -p "${dns##*:}" s.glb.example +short | grep -q .
  fi
}
for _ in $(seq 200); do serving && break; sleep 0.05; done
# setsid -f: the flooder's parent exits at once, so it is not in this command's process tree.
setsid -f bash -c 'echo $$ > "$1"; exec python3 "$2" "$3" "$4" "$5"' _ "$pidfile" "$here/scripts/lib/admin-flood.py" "$BENCH_ADMIN" "${target[@]}"
wait $server
