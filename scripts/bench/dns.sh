#!/usr/bin/env bash
# scripts/bench/dns.sh -- authoritative DNS benchmark (dnsperf over UDP, loopback).
#
# Usage:
#   scripts/bench/dns.sh [SYSTEM ...]            (default: gdnsd knot)
#
# SYSTEM is one of
#   gdnsd           gdnsd 3 with multifo (www) + weighted (w) plugins, both
#                   health-checked by http_status monitors of three nginx
#                   "cluster" origins 127.0.1.{1,2,3}:18090
#   knot            Knot DNS, plain static zone (www and w are static RRsets)
#   cmd:<command>   any other server, started as `bash -c "<command>"` with env
#                     DNS_LISTEN=127.0.0.1:15353
#                     CLUSTERS=127.0.1.1,127.0.1.2,127.0.1.3  CLUSTER_PORT=18090
#                   It must serve the zone described in lib/dns-servers.sh
#                   (glb.example.) on DNS_LISTEN (UDP) within 15 s.  Prefix
#                   NAME= to label it, e.g. glb=cmd:scripts/bench-dns.sh
#
# What it does, for ROUNDS rounds, each system in turn (interleaved):
#   1. starts a fresh server, checks it answers, warms up 1 s;
#   2. for each load in DNSPERF_LOADS: a closed-loop saturation run
#      (dnsperf -l DURATION <args>) -> qps, avg/stddev/max latency, lost,
#      server CPU (% of one core, CPU-µs per query), peak RSS, dnsperf CPU,
#      CPU of other processes (noise);
#   3. if LAT_QPS > 0: an open-loop run at a fixed LAT_QPS rate with -v,
#      per-query latencies -> p50/p90/p99/p99.9/max (dnsperf itself only
#      prints average/stddev/min/max);
#   4. stops the server.
# Query mix (OUT/queries.txt, 1000 lines, fixed seed): 40% A www (3 addrs),
# 15% A w (weighted), 10% A s (static), 10% AAAA s6, 10% AAAA www (NODATA),
# 15% A <random>.glb.example (NXDOMAIN) -> expect 85% NOERROR / 15% NXDOMAIN.
#
# Environment knobs (defaults):
#   ROUNDS=3 DURATION=10 LAT_QPS=20000 REF=knot
#   DNSPERF_LOADS='c1:-c 1 -T 1 -q 100|c4:-c 4 -T 1 -q 200'
#                 ('|'-separated NAME:ARGS entries; c1 = one client socket,
#                  so SO_REUSEPORT servers use one thread; c4 spreads load.
#                  A 2nd dnsperf thread (-T 2) starves the server on 2 cores)
#   OUT=./.bench-results/dns-<timestamp>
#   MON_* knobs of lib/dns-servers.sh (monitor interval/thresholds)
# Ports: 15353 (DNS, UDP+TCP), 18090 on 127.0.1.{1,2,3} (cluster origins).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$BENCH_DIR/lib/dns-servers.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
LAT_QPS=${LAT_QPS:-20000}
REF=${REF:-knot}
DNSPERF_LOADS=${DNSPERF_LOADS:-'c1:-c 1 -T 1 -q 100|c4:-c 4 -T 1 -q 200'}
OUT=${OUT:-$PWD/.bench-results/dns-$(date +%Y%m%d-%H%M%S)}

SYSTEMS=("$@")
[[ ${#SYSTEMS[@]} -eq 0 ]] && SYSTEMS=(gdnsd knot)
command -v dnsperf >/dev/null || die "dnsperf not installed (apt-get install dnsperf)"
assert_free "$DNS_PORT"; assert_free "$CLUSTER_PORT"

mkdir -p "$OUT/dnsperf"
CSV=$OUT/raw.csv
LCSV=$OUT/latency.csv
echo "round,load,system,qps,avg_ms,sd_ms,max_ms,lost,server_cpu_pct,server_us_per_q,server_hwm_mb,client_cpu_pct,foreign_cpu_pct,irq_cpu_pct,rcodes" > "$CSV"
echo "round,load,system,qps,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,lost" > "$LCSV"

# ------------------------------------------------------------- query file
Q=$OUT/queries.txt
"$PY" - > "$Q" <<'PY'
import random
r = random.Random(42)
mix = [("www.glb.example A", 40), ("w.glb.example A", 15), ("s.glb.example A", 10),
       ("s6.glb.example AAAA", 10), ("www.glb.example AAAA", 10), ("NX", 15)]
lines = []
for q, pct in mix:
    for i in range(pct * 10):
        lines.append(f"nx{i}-{r.randrange(10**6)}.glb.example A" if q == "NX" else q)
r.shuffle(lines)
print("\n".join(lines))
PY

start_clusters
log "work dir $WORK ; results -> $OUT ; systems: ${SYSTEMS[*]}"

IFS='|' read -r -a LOADS <<< "$DNSPERF_LOADS"

sat_run() {  # round label loadname args...
  local round=$1 label=$2 lname=$3; shift 3
  local out=$OUT/dnsperf/r${round}-${lname}-${label}.txt
  local s0 s1 m0 m1 q0 q1 t0 t1
  s0=$(tree_ticks "$DNS_PID"); m0=$(machine_busy_ticks); q0=$(machine_irq_ticks); t0=$(now)
  local TIMEFORMAT='%U %S'
  { time timeout $((DURATION + 20)) dnsperf -s "$DNS_ADDR" -p "$DNS_PORT" -d "$Q" -l "$DURATION" "$@" > "$out" 2>&1 ; } 2> "$WORK/dnsperf.time" || true
  t1=$(now); s1=$(tree_ticks "$DNS_PID"); m1=$(machine_busy_ticks); q1=$(machine_irq_ticks)
  local hwm ct
  hwm=$(tree_hwm_kb "$DNS_PID")
  ct=$(awk -v hz="$CLK_TCK" '{printf "%d", ($1+$2)*hz}' "$WORK/dnsperf.time")
  local qps avg mn mx sd lost done_ rc
  qps=$(awk '/Queries per second:/ {print $4}' "$out")
  read -r avg mx < <(awk '/Average Latency/ {gsub(/[(),]/,""); print $4, $8}' "$out")
  sd=$(awk '/Latency StdDev/ {print $4}' "$out")
  lost=$(awk '/Queries lost:/ {print $3}' "$out")
  done_=$(awk '/Queries completed:/ {print $3}' "$out")
  rc=$(awk -F': *' '/Response codes:/ {gsub(/,/,";",$2); print $2}' "$out")
  [[ -n $qps ]] || { cat "$out" >&2; die "$label/$lname: dnsperf produced no result"; }
  awk -v r="$round" -v l="$lname" -v s="$label" -v qps="$qps" -v avg="$avg" -v sd="$sd" -v mx="$mx" \
      -v lost="$lost" -v n="$done_" -v sd_="$((s1 - s0))" -v md=$((m1 - m0)) -v qd=$((q1 - q0)) \
      -v ct="$ct" -v hwm="$hwm" -v el="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" -v hz="$CLK_TCK" -v rc="$rc" 'BEGIN{
      f = (md - sd_ - ct)/hz/el*100; if (f<0) f=0;
      printf "%s,%s,%s,%.0f,%.4f,%.4f,%.3f,%s,%.1f,%.2f,%.1f,%.1f,%.1f,%.1f,%s\n", r,l,s,qps,avg*1000,sd*1000,mx*1000,lost,
        sd_/hz/el*100, (n>0? sd_/hz*1e6/n : 0), hwm/1024, ct/hz/el*100, f, qd/hz/el*100, rc }' >> "$CSV"
  log "r$round $lname $label: $(tail -1 "$CSV")"
}

lat_run() {  # round label
  local round=$1 label=$2 out=$WORK/lat.txt
  timeout $((DURATION + 20)) dnsperf -s "$DNS_ADDR" -p "$DNS_PORT" -d "$Q" -l "$DURATION" -c 2 -q 500 -Q "$LAT_QPS" -v > "$out" 2>&1 || true
  "$PY" - "$out" "$round" "lat@$LAT_QPS" "$label" >> "$LCSV" <<'PY'
import sys
path, rnd, load, label = sys.argv[1:5]
lat, qps, lost = [], "", "0"
for line in open(path):
    if line.startswith("> "):
        try: lat.append(float(line.split()[-1]))
        except ValueError: pass
    elif "Queries per second:" in line: qps = line.split()[-1]
    elif "Queries lost:" in line: lost = line.split()[2]
lat.sort()
def pct(p): return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
print(f"{rnd},{load},{label},{float(qps or 0):.0f},{pct(.5):.4f},{pct(.9):.4f},{pct(.99):.4f},{pct(.999):.4f},{(lat[-1]*1000 if lat else 0):.3f},{lost}")
PY
  log "r$round lat $label: $(tail -1 "$LCSV")"
}

for round in $(seq "$ROUNDS"); do
  for s in "${SYSTEMS[@]}"; do
    label=$(label_of "$s"); spec=$(spec_of "$s")
    start_dns "$spec"
    timeout 10 dnsperf -s "$DNS_ADDR" -p "$DNS_PORT" -d "$Q" -l 1 -c 2 -q 100 > /dev/null 2>&1 || true
    for l in "${LOADS[@]}"; do
      # shellcheck disable=SC2086
      sat_run "$round" "$label" "${l%%:*}" ${l#*:}
    done
    [[ $LAT_QPS -gt 0 ]] && lat_run "$round" "$label"
    stop_dns
  done
done

{
  echo "## Saturation (closed loop)"; echo
  "$PY" "$BENCH_DIR/lib/summarize.py" dns "$CSV" "$REF"
  if [[ $LAT_QPS -gt 0 ]]; then
    echo "## Latency at a fixed offered rate (open loop, $LAT_QPS qps, dnsperf -v)"; echo
    "$PY" "$BENCH_DIR/lib/summarize.py" dnslat "$LCSV" "$REF"
  fi
} > "$OUT/summary.md"
cat "$OUT/summary.md"
log "done: $OUT"
