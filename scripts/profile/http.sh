#!/usr/bin/env bash
# Counts the HTTP proxy's instructions per request with callgrind (repeatable on a noisy machine,
# unlike wall time): two nginx origins as in scripts/bench/http-proxy.sh, one proxy loop under
# valgrind, counters zeroed after a warm-up, then scripts/profile/http-client.c's load, and the
# self cost per function. Needs valgrind, nginx and a release build.
#   scripts/profile/http.sh [ka|close|big]  ka: 16 keep-alive connections x 500 GET /; big: the same, GET /big (16 KiB);
#                                        close: 16 clients x 200 requests, a new connection each
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-ka}
source "$here/scripts/bench/lib/common.sh"
glb=${GLB_BIN:-$here/.build/release/glb}
# valgrind 3.19 writes into sigsuspend's mask, which libdispatch passes as read-only memory.
cc -shared -fPIC -o "$WORK/sigfix.so" "$here/scripts/profile/sigfix.c"
cc -O2 -o "$WORK/http-client" "$here/scripts/profile/http-client.c"
start_origin origin1 127.0.0.1:18081 1
start_origin origin2 127.0.0.1:18082 1

admin=127.0.0.1:28997
"$glb" agent --data "$WORK/data" --zone glb.example. --admin $admin --log-level error & agent=$!
for _ in $(seq 100); do curl -fsS -o /dev/null http://$admin/healthz 2>/dev/null && break; sleep 0.05; done
put() { curl -fsS -X PUT "http://$admin$1" -H 'Content-Type: application/json' -d "$2" >/dev/null; }
put /v1/services/www '{"zone":"glb.example.","policy":"weighted","ttl":30,"check":{"type":"http","path":"/","interval_ms":60000,"fall":2,"rise":2}}'
put /v1/services/www/clusters/o1 '{"region":"r1","address":"127.0.0.1","port":18081}'
put /v1/services/www/clusters/o2 '{"region":"r2","address":"127.0.0.1","port":18082}'
kill -TERM $agent; wait $agent || true

LD_PRELOAD=$WORK/sigfix.so valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$WORK/cg" \
  "$glb" agent --data "$WORK/data" --zone glb.example. --http 127.0.0.1:18080 --http-default-service www.glb.example. \
  --admin $admin --loops 1 --log-level error 2>"$WORK/valgrind.log" & vg=$!
for _ in $(seq 300); do curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:18080/ 2>/dev/null && break; sleep 0.2; done
case $mode in close) args=(16 200 / 1) ;; big) args=(16 500 /big) ;; *) args=(16 500 /) ;; esac
"$WORK/http-client" 18080 16 20 / "${args[3]:-0}" >/dev/null
callgrind_control -z $vg >/dev/null
"$WORK/http-client" 18080 "${args[@]}"
callgrind_control -d $vg >/dev/null
sleep 0.5; kill -TERM $vg; wait $vg || true
total=$(( ${args[0]} * ${args[1]} ))
echo "requests: $total"
python3 "$here/scripts/profile/selfcost.py" "$WORK"/cg.1 "$total" ${TOP:-45} | cut -c1-170
[[ -n ${KEEP_CG:-} ]] && cp "$WORK"/cg.1 "$KEEP_CG"
exit 0
