#!/usr/bin/env bash
# Fuzz the admin REST API against docs/openapi.json with Schemathesis (property-based: requests
# generated from the document, answers checked against it), on a throwaway agent.
#
#   scripts/fuzz-api.sh                      # about 60 s of fuzzing
#   FUZZ_API_SECONDS=600 scripts/fuzz-api.sh # the long run
#   scripts/fuzz-api.sh --seed 42            # extra arguments go to the main `st run`
#
# Clients are generated from the document, so the server must do exactly what it promises: no
# 5xx, every documented status/content type/schema/header, every schema-valid request accepted
# (2xx, or a documented 404/409/422 about the state), every schema-invalid one refused, and a
# deleted record gone. The agent runs with an admin and a read token; the main run carries the
# admin token and follows the document's links (zone → service → cluster → canary) in its
# stateful phase, and two shorter runs send the read token and no token, so the 401 and 403
# paths are checked too. The agent must still answer /healthz at the end and stop on SIGTERM.
# Schemathesis is installed into .build/fuzz-api-venv on first use (PyPI only).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_API_SECONDS:-60}
out=.build/fuzz-api
venv=.build/fuzz-api-venv
mkdir -p "$out"

if ! "$venv/bin/st" --version >/dev/null 2>&1; then
    echo "fuzz-api: installing Schemathesis into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" || { echo "fuzz-api: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi
"$venv/bin/st" --version

swift build --product glb
glb="$(swift build --product glb --show-bin-path)/glb"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin="fuzz-admin-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
reader="fuzz-read-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
data=$(mktemp -d)
"$glb" agent --data "$data" --zone glb.example. --admin "127.0.0.1:$port" --admin-token "$admin" --read-token "$reader" \
    --loops 1 --node fuzz --log-level warning >"$out/agent.log" 2>&1 &
agent=$!
cleanup() {
    kill "$agent" 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$agent" 2>/dev/null || { cat "$out/agent.log"; echo "fuzz-api: the agent did not start" >&2; exit 1; }
    sleep 0.1
done

# The documented path examples (service www, cluster eu, its canary) exist, so reads, the
# canary's promote and abort, and deletes reach real records before fuzzing removes them.
put() { curl -fsS -X PUT -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "$2" "$base$1" >/dev/null; }
put /v1/services/www '{"zone":"glb.example.","policy":"weighted"}'
put /v1/services/www/clusters/eu '{"region":"eu-west","address":"127.0.0.11","port":18081}'
put /v1/services/www/clusters/us '{"region":"us-east","addresses":["127.0.0.12","::1"],"port":18081}'
put /v1/services/www/canary '{"cluster":"eu","percent":10}'

st() { "$venv/bin/st" --config-file scripts/fuzz-api.toml run docs/openapi.json --url "$base" --no-color "$@"; }
status=0
# Most of the time goes to the admin token, with every phase; a tenth each to the read token
# (writes are 403) and to no token (everything but /healthz, /readyz and /metrics is 401).
main=$((seconds * 8 / 10)); side=$(( (seconds - main) / 2 ))
((main >= 1)) || main=1; ((side >= 1)) || side=1
st --max-time "$main" -H "Authorization: Bearer $admin" --report junit --report-junit-path "$out/admin.xml" "$@" || status=1
# (Their "authentication failed" warning is the point, so warnings are off there.)
st --max-time "$side" -H "Authorization: Bearer $reader" --phases examples,coverage,fuzzing --warnings off \
    --report junit --report-junit-path "$out/read.xml" || status=1
st --max-time "$side" --phases examples,coverage,fuzzing --warnings off --report junit --report-junit-path "$out/anonymous.xml" || status=1

if ! curl -fsS "$base/healthz" >/dev/null; then
    echo "fuzz-api: the agent no longer answers /healthz" >&2
    status=1
fi
kill -TERM "$agent"
if ! wait "$agent"; then
    echo "fuzz-api: the agent did not exit cleanly on SIGTERM" >&2
    status=1
fi
# An error (a 500's detail) or a row the API accepted but routing cannot serve is a failure too.
if grep -q '"level":"error"\|config row skipped' "$out/agent.log"; then
    echo "fuzz-api: the agent logged errors or skipped rows it had accepted:" >&2
    grep '"level":"error"\|config row skipped' "$out/agent.log" | tail -20 >&2
    status=1
fi
((status == 0)) && echo "fuzz-api: passed" || echo "fuzz-api: FAILED (agent log: $out/agent.log)" >&2
exit "$status"
