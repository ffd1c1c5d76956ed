#!/usr/bin/env bash
# The `cmd:` system for scripts/bench/http-proxy.sh and failover.sh http: runs `glb agent` in
# the foreground with the HTTP proxy on LISTEN and registers ORIGINS as two clusters of one
# service (weighted 1:1, health-checked with GET / every CHECK_INTERVAL_MS, default 1000, fall 2,
# rise 2: haproxy's `check inter 1s fall 2 rise 2`). wrk sends Host: 127.0.0.1:18080, which names
# no service, so the service is also the listener's default. Stops on SIGTERM.
# With CERTS=DIR set, LISTEN is an HTTPS listener (--https LISTEN --certs DIR): scripts/bench-tls.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
glb=${GLB_BIN:-$here/.build/release/glb}
listen=${LISTEN:-127.0.0.1:18080}
admin=${BENCH_ADMIN:-127.0.0.1:18998}
IFS=, read -r -a origins <<<"${ORIGINS:-127.0.0.1:18081,127.0.0.1:18082}"
data=$(mktemp -d "${BENCH_TMP:-/tmp}/glb-bench-proxy.XXXXXX")

# The harness probes the listener as soon as it opens, so the config goes into the store first,
# through an agent with only its admin API, and the serving agent starts on the same store.
"$glb" agent --data "$data" --zone glb.example. --admin "$admin" --log-level warning &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null; rm -rf "$data"' EXIT
trap 'exit 0' TERM INT

for _ in $(seq 100); do curl -fsS "http://$admin/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
put() { curl -fsS -X PUT "http://$admin$1" -H 'Content-Type: application/json' -d "$2" >/dev/null; }
put /v1/services/www "{\"zone\":\"glb.example.\",\"policy\":\"weighted\",\"ttl\":30,\"check\":{\"type\":\"http\",\"path\":\"/\",\"interval_ms\":${CHECK_INTERVAL_MS:-1000},\"fall\":2,\"rise\":2}}"
for i in "${!origins[@]}"; do
  put "/v1/services/www/clusters/o$((i + 1))" "{\"region\":\"r$((i + 1))\",\"address\":\"${origins[$i]%:*}\",\"port\":${origins[$i]##*:}}"
done
kill -TERM $agent; wait $agent
serve=(--http "$listen")
[[ -n ${CERTS:-} ]] && serve=(--https "$listen" --certs "$CERTS")
"$glb" agent --data "$data" --zone glb.example. "${serve[@]}" --http-default-service www.glb.example. \
  --admin "$admin" --log-level warning &
agent=$!
wait $agent
