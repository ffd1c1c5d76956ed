#!/usr/bin/env bash
# The `cmd:` system for scripts/bench/dns.sh and failover.sh: runs `glb agent` in the
# foreground on DNS_LISTEN and loads the benchmark zone (lib/dns-servers.sh) through the admin API:
#   www  A   127.0.1.{1,2,3}, policy all (every healthy address, like gdnsd multifo)
#   w    A   weighted 3:1:1 over the same three, one address per answer
#   s    A   192.0.2.10          s6  AAAA  2001:db8::10
#   ns1  A   127.0.0.1 (glue)
# www and w are health-checked like gdnsd's clusters (GET /health on CLUSTER_PORT), every
# CHECK_INTERVAL_MS (default 250) with CHECK_FALL failures to go down (default 3) and CHECK_RISE
# successes to come back (default 2): the design's "under 1 s at 250 ms x 3".
# Stops on SIGTERM (the agent drains and exits).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
glb=${GLB_BIN:-$here/.build/release/glb}
listen=${DNS_LISTEN:-127.0.0.1:15353}
admin=${BENCH_ADMIN:-127.0.0.1:18999}
IFS=, read -r -a clusters <<<"${CLUSTERS:-127.0.1.1,127.0.1.2,127.0.1.3}"
port=${CLUSTER_PORT:-18090}
data=$(mktemp -d "${BENCH_TMP:-/tmp}/glb-bench-dns.XXXXXX")

# The harness queries the listener as soon as it opens, so the config goes into the store first,
# through an agent with only its admin API, and the serving agent starts on the same store.
"$glb" agent --data "$data" --zone glb.example. --admin "$admin" --log-level warning &
agent=$!
trap 'kill -TERM $agent 2>/dev/null; wait $agent 2>/dev/null; rm -rf "$data"' EXIT
trap 'exit 0' TERM INT

for _ in $(seq 100); do curl -fsS "http://$admin/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
put() { curl -fsS -X PUT "http://$admin$1" -H 'Content-Type: application/json' -d "$2" >/dev/null; }
put /v1/zones/glb.example. '{"ttl":300,"negative_ttl":300,"nameservers":["ns1.glb.example."],"glue":{"ns1.glb.example.":["127.0.0.1"]}}'
check="{\"type\":\"http\",\"path\":\"/health\",\"interval_ms\":${CHECK_INTERVAL_MS:-250},\"timeout_ms\":${CHECK_TIMEOUT_MS:-${CHECK_INTERVAL_MS:-250}},\"fall\":${CHECK_FALL:-3},\"rise\":${CHECK_RISE:-2}}"
put /v1/services/www "{\"zone\":\"glb.example.\",\"policy\":\"all\",\"ttl\":300,\"check\":$check}"
put /v1/services/w "{\"zone\":\"glb.example.\",\"policy\":\"weighted\",\"ttl\":300,\"check\":$check}"
put /v1/services/s '{"zone":"glb.example.","ttl":300}'
put /v1/services/s6 '{"zone":"glb.example.","ttl":300}'
weights=(3 1 1)
for i in "${!clusters[@]}"; do
  put "/v1/services/www/clusters/c$((i + 1))" "{\"region\":\"r$((i + 1))\",\"address\":\"${clusters[$i]}\",\"port\":$port}"
  put "/v1/services/w/clusters/c$((i + 1))" "{\"region\":\"r$((i + 1))\",\"address\":\"${clusters[$i]}\",\"port\":$port,\"weight\":${weights[$i]}}"
done
put /v1/services/s/clusters/static '{"region":"static","address":"192.0.2.10","port":80}'
put /v1/services/s6/clusters/static '{"region":"static","address":"2001:db8::10","port":80}'
kill -TERM $agent; wait $agent
"$glb" agent --data "$data" --zone glb.example. --dns "$listen" --admin "$admin" --log-level warning &
agent=$!
wait $agent
