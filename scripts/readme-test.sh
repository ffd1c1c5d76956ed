#!/usr/bin/env bash
# Runs the README's walkthrough as written, so the README cannot drift from the product.
#
#   scripts/readme-test.sh [README.md]     (GLB_BIN=path/to/glb; default .build/debug/glb)
#
# Fenced blocks whose info string is `sh run` are joined, in order, into one bash script and run
# with `set -euo pipefail` in a fresh directory (with the repository's Tests/ and scripts/ linked
# in, so paths read as they do from a clone). A block marked `sh agent` starts a node: it runs
# in the background, the script waits for its /readyz, and the next `sh agent` block (or the
# end) stops it with SIGTERM first, as the README tells its reader to. Inside the script:
#   - `curl` fails on any HTTP error (a 4xx in the README is a bug in the README);
#   - `dig` fails when an answer is not NOERROR or a `+short` answer is empty;
#   - `glb` is GLB_BIN.
# Every wait is bounded; the whole run is limited to README_TEST_SECONDS (default 120).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
readme=${1:-$repo/README.md}
bin=${GLB_BIN:-$repo/.build/debug/glb}
[[ -x $bin ]] || { echo "readme-test: no glb binary at $bin (swift build first)" >&2; exit 2; }
for tool in curl dig python3 openssl; do
  command -v "$tool" >/dev/null || { echo "readme-test: $tool is missing (scripts/bootstrap.sh installs it)" >&2; exit 2; }
done

# The walkthrough uses fixed ports: something already listening there would answer in its place.
for port in 127.0.0.11:18081 127.0.0.12:18082 127.0.0.1:9090 127.0.0.1:8080 127.0.0.1:8443 127.0.0.1:9191 127.0.0.1:9192; do
  if (exec 3<>"/dev/tcp/${port%:*}/${port##*:}") 2>/dev/null; then
    echo "readme-test: $port is already in use; the walkthrough needs it (a previous run left behind?)" >&2
    exit 2
  fi
done

work=$(mktemp -d /tmp/glb-readme.XXXXXX)
ln -s "$repo/Tests" "$work/Tests"
ln -s "$repo/scripts" "$work/scripts"
mkdir -p "$work/bin"
ln -s "$bin" "$work/bin/glb"
script=$work/walkthrough.sh

python3 - "$readme" "$script" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```sh (run|agent)\n(.*?)^```", text, flags=re.S | re.M)
if not blocks:
    sys.exit("readme-test: no `sh run` blocks in the README")
out = []
for number, (kind, body) in enumerate(blocks, 1):
    out.append(f"echo '--- README block {number} ({kind})' >&2")
    if kind == "agent":
        command = " ".join(line.rstrip("\\").strip() for line in body.strip().splitlines())
        out.append(f"start_agent {command}")
    else:
        out.append(body)
open(sys.argv[2], "w").write("\n".join(out) + "\nstop_agent\n")
PY

cat > "$work/prelude.sh" <<'SH'
set -euo pipefail
curl() { command curl --fail-with-body -sS --max-time 10 "$@"; echo; }
dig() {
  local out
  out=$(command dig +time=2 +tries=1 "$@")
  if [[ " $* " == *" +short "* ]]; then
    [[ -n $out ]] || { echo "readme-test: dig $* answered nothing" >&2; return 1; }
  elif ! grep -q "status: NOERROR" <<<"$out"; then
    echo "$out" >&2; echo "readme-test: dig $* did not answer NOERROR" >&2; return 1
  fi
  echo "$out"
}
agent_pid=""
stop_agent() {
  [[ -n $agent_pid ]] || return 0
  kill -TERM "$agent_pid" 2>/dev/null || true
  wait "$agent_pid" 2>/dev/null || true
  agent_pid=""
}
start_agent() {
  stop_agent
  local admin=127.0.0.1:9090 prev="" arg
  for arg in "$@"; do [[ $prev == --admin ]] && admin=$arg; prev=$arg; done
  "$@" 2>>agent.log &
  agent_pid=$!
  for _ in $(seq 100); do
    command curl -sf --max-time 1 "http://$admin/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$agent_pid" 2>/dev/null || { tail -5 agent.log >&2; echo "readme-test: the agent exited" >&2; return 1; }
    sleep 0.1
  done
  echo "readme-test: the agent was not ready in 10 s" >&2; return 1
}
cleanup_walkthrough() {
  stop_agent
  # Whatever the walkthrough left running (origins, extra agents) is in this process group, the
  # session setsid made: signal the whole group, this shell excepted.
  trap '' TERM
  kill -TERM -- -$$ 2>/dev/null || true
}
trap cleanup_walkthrough EXIT
SH

cd "$work"
status=0
PATH="$work/bin:$PATH" timeout --kill-after=5 "${README_TEST_SECONDS:-120}" \
  setsid bash -c 'source ./prelude.sh; source ./walkthrough.sh' > walkthrough.out 2>&1 || status=$?
if ((status != 0)); then
  echo "readme-test: the walkthrough failed (exit $status); its last lines:" >&2
  tail -n 40 walkthrough.out >&2
  echo "--- agent log (last lines)" >&2
  tail -n 15 agent.log 2>/dev/null >&2 || true
else
  echo "readme-test: every runnable block of $(basename "$readme") ran ($(grep -c '^--- README block' walkthrough.out) blocks)"
fi
cd /; rm -rf "$work"
exit "$status"
