#!/usr/bin/env bash
# Gossip benchmark: 8 `glb agent`s beside 8 `serf agent`s (serf's default LAN
# profile: memberlist inside), on loopback, never both at once, alternating which goes first.
# Measures time to join, failure detection after SIGKILL, false alarms under 0/20/40% UDP loss on
# the gossip ports, and (GLB only) config propagation. scripts/bench-gossip.py does the work and
# says how each figure is taken; this wrapper builds, checks the tools, and owns the iptables
# rules, which live in their own chain and are removed on any exit.
#
#   ROUNDS=3 DURATION=60 scripts/bench-gossip.sh      (make bench-gossip)
# Other knobs: LOSSES=0,20,40  SYSTEMS=glb,serf  POLL_MS=20  POLL_FALSE_MS=100  PROPAGATIONS=5
# GLB_LOOPS (default: the agent's own, one loop per CPU)  SEED=7  NO_BUILD=1
# Needs root (iptables), serf, iptables and python3-msgpack: scripts/bootstrap.sh --bench.
# Raw results: .bench-results/gossip-<time>/ (raw.jsonl, table.md, every agent's log).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

[[ $(id -u) -eq 0 ]] || { echo "bench-gossip: needs root for iptables" >&2; exit 1; }
for tool in serf iptables /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "bench-gossip: $tool missing: run scripts/bootstrap.sh --bench" >&2; exit 1; }
done
/usr/bin/python3 -c 'import msgpack' 2>/dev/null || { echo "bench-gossip: python3-msgpack missing: run scripts/bootstrap.sh --bench" >&2; exit 1; }

if [[ -z ${NO_BUILD:-} ]]; then
  swift build -c release --product glb --static-swift-stdlib
fi
glb=${GLB_BIN:-$here/.build/release/glb}

out=$here/.bench-results/gossip-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"

# The loss rules: a chain of our own, jumped to from INPUT, so other rules on the machine are
# untouched and cleanup is one flush. `loss.sh PERCENT PORT...` replaces the chain's rules;
# 0 empties it.
chain=GLB_GBENCH_$$
iptables -N "$chain"
iptables -I INPUT -j "$chain"
cleanup() {
  iptables -D INPUT -j "$chain" 2>/dev/null || true
  iptables -F "$chain" 2>/dev/null || true
  iptables -X "$chain" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$out/loss.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
percent=\$1; shift
iptables -F $chain
if [[ \$percent != 0 ]]; then
  probability=\$(awk -v p="\$percent" 'BEGIN { printf "%.4f", p / 100 }')
  for port in "\$@"; do
    iptables -A $chain -i lo -p udp --dport "\$port" -m statistic --mode random --probability "\$probability" -j DROP
  done
fi
EOF
chmod +x "$out/loss.sh"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "glb: $("$glb" version 2>/dev/null || echo unknown) ($(git rev-parse --short HEAD))"
  echo "serf: $(serf version | head -1)"
  echo "ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-60} LOSSES=${LOSSES:-0,20,40} POLL_MS=${POLL_MS:-20} POLL_FALSE_MS=${POLL_FALSE_MS:-100}"
  echo "load: $(cat /proc/loadavg)"
} | tee "$out/env.txt" >&2

GLB_BIN=$glb OUT=$out LOSS_CHAIN=$chain LOSS_CMD=$out/loss.sh /usr/bin/python3 "$here/scripts/bench-gossip.py" | tee "$out/summary.md"
echo "bench-gossip: raw results in $out" >&2
echo "load at end: $(cat /proc/loadavg)" | tee -a "$out/env.txt" >&2
