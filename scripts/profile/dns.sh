#!/usr/bin/env bash
# Counts the DNS server's instructions per query with callgrind (repeatable on a noisy machine,
# unlike wall time): loads the benchmark zone, runs one loop under valgrind, zeroes the counters
# after a warm-up, sends QUERIES queries with dnsperf, dumps, and prints the self cost per
# function. Needs valgrind and dnsperf (scripts/bootstrap.sh --bench) and a release build.
#   scripts/profile/dns.sh [QUERIES_FILE]   (default: a mix like scripts/bench/dns.sh's)
# CG_OUT=FILE keeps the callgrind output (for callgrind_annotate --tree=caller).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/glb-profile.XXXXXX)
trap 'rm -rf "$work"' EXIT
glb=$here/.build/release/glb
# valgrind 3.19 writes into sigsuspend's mask, which libdispatch passes as read-only memory.
cc -shared -fPIC -o "$work/sigfix.so" "$here/scripts/profile/sigfix.c"
queries=${1:-$work/queries.txt}
if [[ ! -f $queries ]]; then
  for i in $(seq 400); do echo "www.glb.example A"; done > "$queries"
  for i in $(seq 150); do echo "w.glb.example A"; echo "nx$i.glb.example A"; done >> "$queries"
  for i in $(seq 100); do echo "s.glb.example A"; echo "s6.glb.example AAAA"; echo "www.glb.example AAAA"; done >> "$queries"
fi

"$glb" agent --data "$work/data" --zone glb.example. --admin 127.0.0.1:28997 --log-level error & agent=$!
for _ in $(seq 100); do curl -fsS -o /dev/null http://127.0.0.1:28997/healthz 2>/dev/null && break; sleep 0.05; done
put() { curl -fsS -X PUT "http://127.0.0.1:28997$1" -d "$2" >/dev/null; }
check='"check":{"type":"tcp","interval_ms":60000,"timeout_ms":2000}'
put /v1/services/www "{\"zone\":\"glb.example.\",\"policy\":\"all\",\"ttl\":300,$check}"
put /v1/services/w "{\"zone\":\"glb.example.\",\"policy\":\"weighted\",\"ttl\":300,$check}"
put /v1/services/s "{\"zone\":\"glb.example.\",\"ttl\":300,$check}"
put /v1/services/s6 "{\"zone\":\"glb.example.\",\"ttl\":300,$check}"
for i in 1 2 3; do
  put /v1/services/www/clusters/c$i "{\"region\":\"r\",\"address\":\"127.0.1.$i\",\"port\":18090}"
  put /v1/services/w/clusters/c$i "{\"region\":\"r\",\"address\":\"127.0.1.$i\",\"port\":18090}"
done
put /v1/services/s/clusters/x '{"region":"r","address":"192.0.2.10","port":80}'
put /v1/services/s6/clusters/x '{"region":"r","address":"2001:db8::10","port":80}'
kill -TERM $agent; wait $agent

LD_PRELOAD=$work/sigfix.so valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$work/cg" \
  "$glb" agent --data "$work/data" --zone glb.example. --dns 127.0.0.1:25353 --admin 127.0.0.1:28997 --loops 1 \
  --log-level error 2>"$work/valgrind.log" & vg=$!
for _ in $(seq 300); do dig @127.0.0.1 -p 25353 s.glb.example +short +time=1 +tries=1 2>/dev/null | grep -q 192 && break; sleep 0.2; done
dnsperf -s 127.0.0.1 -p 25353 -d "$queries" -n 2 -c 1 -q 20 >/dev/null 2>&1
callgrind_control -z $vg >/dev/null
runs=${RUNS:-20}
dnsperf -s 127.0.0.1 -p 25353 -d "$queries" -n "$runs" -c 1 -q 20 2>&1 | grep -E "Queries completed"
callgrind_control -d $vg >/dev/null
sleep 0.5; kill -TERM $vg; wait $vg || true
total=$(( $(wc -l < "$queries") * runs ))
echo "queries: $total"
[[ -n ${CG_OUT:-} ]] && cp "$work"/cg.1 "$CG_OUT"
python3 "$here/scripts/profile/selfcost.py" "$work"/cg.1 | head -30 | swift demangle --simplified | cut -c1-160
