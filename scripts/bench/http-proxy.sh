#!/usr/bin/env bash
# scripts/bench/http-proxy.sh -- L7 HTTP reverse-proxy benchmark (wrk, loopback only).
#
# Usage:
#   scripts/bench/http-proxy.sh [SYSTEM ...]          (default: direct haproxy nginx)
#
# SYSTEM is one of
#   direct            wrk straight at origin 1 (127.0.0.1:18081): the ceiling
#   haproxy           haproxy, nbthread 2, mode http, roundrobin, http-reuse always
#   nginx             nginx, worker_processes 2, upstream keepalive
#   cmd:<command>     any other proxy, started as `bash -c "<command>"` with env
#                       ORIGINS=127.0.0.1:18081,127.0.0.1:18082
#                       LISTEN=127.0.0.1:18080
#                       BENCH_TMP=<scratch dir, removed at exit>
#                     It must listen on 127.0.0.1:18080 within 15 s and balance
#                     across ORIGINS.  Prefix with NAME= to label it, e.g.
#                       glb=cmd:scripts/bench-proxy.sh
#
# What it does:
#   * starts two nginx origins (127.0.0.1:18081 and :18082, 1 worker each):
#       GET /     -> 200, fixed 100-byte body
#       GET /big  -> 200, 16384-byte body (sendfile)
#   * for ROUNDS rounds, for each LOAD, for each SYSTEM (interleaved
#     A B C A B C ...): starts a fresh proxy on 127.0.0.1:18080, warms it up
#     for WARMUP s, runs wrk for DURATION s, records req/s, p50, p99, errors,
#     the proxy's CPU (% of one core and CPU-microseconds per request), peak
#     RSS (sum of VmHWM over its processes) and peak PSS (sampled every
#     0.5 s), wrk's own CPU, the origins' CPU, the CPU burned by *other*
#     processes on the machine during the run (noise from other jobs) and the
#     irq/softirq/steal time (loopback TCP work not charged to any process),
#     then stops the proxy.  All CPU figures are % of ONE core.
#   * writes OUT/raw.csv, OUT/wrk/*.txt and OUT/summary.md (medians and
#     min-max over rounds, plus per-round ratios against REF).
#
# Loads (LOADS, space separated; default "ka64 ka256 big64 close64"):
#   ka64     keep-alive, 64 connections, GET /
#   ka256    keep-alive, 256 connections, GET /
#   big64    keep-alive, 64 connections, GET /big (16 KiB responses)
#   close64  64 connections, 'Connection: close' -> one TCP connection per request
#
# Environment knobs (defaults):
#   ROUNDS=3 DURATION=10 WARMUP=1 WRK_THREADS=1 REF=haproxy
#   OUT=./.bench-results/http-<timestamp>   WORK=<mktemp dir for configs/logs>
#
# Ports used: 18080 (proxy), 18081, 18082 (origins).  Every process started
# here is stopped by PID on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/nginx-proxy.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
WRK_THREADS=${WRK_THREADS:-1}
LOADS=${LOADS:-"ka64 ka256 big64 close64"}
REF=${REF:-haproxy}
OUT=${OUT:-$PWD/.bench-results/http-$(date +%Y%m%d-%H%M%S)}
PROXY_ADDR=127.0.0.1 PROXY_PORT=18080
ORIGINS=127.0.0.1:18081,127.0.0.1:18082

SYSTEMS=("$@")
[[ ${#SYSTEMS[@]} -eq 0 ]] && SYSTEMS=(direct haproxy nginx)

mkdir -p "$OUT/wrk"
CSV=$OUT/raw.csv
echo "round,load,system,rps,p50_ms,p99_ms,requests,sock_errors,non2xx,proxy_cpu_pct,proxy_us_per_req,proxy_hwm_mb,proxy_pss_mb,wrk_cpu_pct,origins_cpu_pct,foreign_cpu_pct,irq_cpu_pct" > "$CSV"

for p in 18080 18081 18082; do assert_free "$p"; done
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"

# ------------------------------------------------------------ proxy configs
write_haproxy_cfg() {
  cat > "$WORK/haproxy.cfg" <<EOF
global
  nbthread 2
  maxconn 8000
  stats socket $WORK/haproxy.sock mode 600 level admin
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind $PROXY_ADDR:$PROXY_PORT
  default_backend origins
backend origins
  balance roundrobin
  http-reuse always
  server o1 127.0.0.1:18081
  server o2 127.0.0.1:18082
EOF
}

write_nginx_proxy_cfg() {
  write_nginx_proxy_conf "$WORK/nginx-proxy" "$PROXY_ADDR:$PROXY_PORT" "127.0.0.1:18081 127.0.0.1:18082"
}

# start_proxy SPEC : sets PROXY_PID ("" for direct) and TARGET (host:port)
start_proxy() {
  local spec=$1
  PROXY_PID=""
  TARGET=$PROXY_ADDR:$PROXY_PORT
  case $spec in
    direct)
      TARGET=127.0.0.1:18081; return 0 ;;
    haproxy)
      write_haproxy_cfg
      haproxy -c -q -f "$WORK/haproxy.cfg" || die "bad haproxy config"
      start_bg haproxy haproxy -db -f "$WORK/haproxy.cfg" ;;
    nginx)
      write_nginx_proxy_cfg
      start_bg nginx-proxy nginx -e "$WORK/nginx-proxy/error.log" -c "$WORK/nginx-proxy/nginx.conf" -g 'daemon off;' ;;
    cmd:*)
      start_bg cmd-proxy env ORIGINS="$ORIGINS" LISTEN="$PROXY_ADDR:$PROXY_PORT" BENCH_TMP="$WORK" bash -c "${spec#cmd:}" ;;
    *) die "unknown system '$spec'" ;;
  esac
  PROXY_PID=$LAST_PID
  if ! wait_tcp "$PROXY_ADDR" "$PROXY_PORT" 15; then
    tail -n 20 "$WORK"/*.log >&2 || true
    die "proxy '$spec' did not listen on $PROXY_ADDR:$PROXY_PORT"
  fi
}

stop_proxy() {
  [[ -n ${PROXY_PID:-} ]] || return 0
  stop_tree "$PROXY_PID" TERM
  forget_pid "$PROXY_PID"
  PROXY_PID=""
  # wait for the port to be released before the next system starts
  local i
  for i in $(seq 100); do
    ss -Hltn "( sport = :$PROXY_PORT )" | grep -q . || break
    sleep 0.1
  done
}

wrk_args() {  # LOAD -> sets WRK_ARGS (array) and WRK_PATH
  case $1 in
    ka64)    WRK_ARGS=(-c64);  WRK_PATH=/ ;;
    ka256)   WRK_ARGS=(-c256); WRK_PATH=/ ;;
    big64)   WRK_ARGS=(-c64);  WRK_PATH=/big ;;
    close64) WRK_ARGS=(-c64 -H 'Connection: close'); WRK_PATH=/ ;;
    *) die "unknown load $1" ;;
  esac
}

# ------------------------------------------------------------------ origins
start_origin origin1 127.0.0.1:18081 1; O1=$LAST_PID
start_origin origin2 127.0.0.1:18082 1; O2=$LAST_PID

log "work dir $WORK ; results -> $OUT"
log "systems: ${SYSTEMS[*]} ; loads: $LOADS ; rounds: $ROUNDS x ${DURATION}s"

run_cell() {
  local round=$1 load=$2 sysspec=$3
  local label spec url
  label=$(label_of "$sysspec"); spec=$(spec_of "$sysspec")
  wrk_args "$load"
  start_proxy "$spec"
  url="http://$TARGET$WRK_PATH"
  # sanity: one request must succeed
  curl -fsS -o /dev/null --max-time 5 "$url" || die "$label: GET $url failed"
  timeout $((WARMUP + 20)) wrk -t"$WRK_THREADS" "${WRK_ARGS[@]}" -d"${WARMUP}s" "$url" > /dev/null 2>&1 || true

  local pss_file=$WORK/pss.$label
  [[ -n $PROXY_PID ]] && pss_sampler "$PROXY_PID" "$pss_file"
  local p0=0 p1=0 m0 m1 q0 q1 o0 o1 t0 t1 wrkout=$OUT/wrk/r${round}-${load}-${label}.txt
  [[ -n $PROXY_PID ]] && p0=$(tree_ticks "$PROXY_PID")
  o0=$(( $(tree_ticks "$O1") + $(tree_ticks "$O2") ))
  m0=$(machine_busy_ticks); q0=$(machine_irq_ticks); t0=$(now)
  local TIMEFORMAT='%U %S'
  { time timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" "${WRK_ARGS[@]}" -d"${DURATION}s" --latency "$url" > "$wrkout" 2>&1 ; } 2> "$WORK/wrk.time" || true
  t1=$(now); m1=$(machine_busy_ticks); q1=$(machine_irq_ticks)
  o1=$(( $(tree_ticks "$O1") + $(tree_ticks "$O2") ))
  local hwm=0 pss=0
  if [[ -n $PROXY_PID ]]; then
    p1=$(tree_ticks "$PROXY_PID"); hwm=$(tree_hwm_kb "$PROXY_PID")
    stop_sampler "$pss_file"; pss=$(cat "$pss_file")
  fi
  stop_proxy

  local rps reqs p50 p99 serr n2xx wcpu
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$wrkout")
  reqs=$(awk '/requests in/ {print $1}' "$wrkout")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$wrkout")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$wrkout")")
  serr=$(awk '/Socket errors:/ {gsub(",","");print $4+$6+$8+$10}' "$wrkout"); serr=${serr:-0}
  n2xx=$(awk '/Non-2xx/ {print $NF}' "$wrkout"); n2xx=${n2xx:-0}
  wcpu=$(awk -v hz="$CLK_TCK" '{printf "%d", ($1+$2)*hz}' "$WORK/wrk.time")  # wrk CPU, ticks
  [[ -n $rps ]] || { cat "$wrkout" >&2; die "$label/$load: wrk produced no result"; }

  awk -v r="$round" -v l="$load" -v s="$label" -v rps="$rps" -v p50="$p50" -v p99="$p99" \
      -v reqs="$reqs" -v serr="$serr" -v n2xx="$n2xx" -v pd=$((p1 - p0)) -v od=$((o1 - o0)) \
      -v md=$((m1 - m0)) -v qd=$((q1 - q0)) -v wt="$wcpu" -v hwm="$hwm" -v pss="$pss" -v t0="$t0" -v t1="$t1" \
      -v hz="$CLK_TCK" -v isproxy="${spec:0:6}" 'BEGIN{
        el=t1-t0;
        pcpu = (isproxy=="direct") ? "" : sprintf("%.1f", pd/hz/el*100);
        pus  = (isproxy=="direct" || reqs==0) ? "" : sprintf("%.1f", pd/hz*1e6/reqs);
        phwm = (isproxy=="direct") ? "" : sprintf("%.1f", hwm/1024);
        ppss = (isproxy=="direct") ? "" : sprintf("%.1f", pss/1024);
        foreign = (md - pd - od - wt)/hz/el*100; if (foreign<0) foreign=0;
        printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.1f,%.1f,%.1f,%.1f\n", r,l,s,rps,p50,p99,reqs,serr,n2xx,pcpu,pus,phwm,ppss, wt/hz/el*100, od/hz/el*100, foreign, qd/hz/el*100 }' >> "$CSV"
  log "r$round $load $label: $(tail -1 "$CSV")"
}

for round in $(seq "$ROUNDS"); do
  for load in $LOADS; do
    for s in "${SYSTEMS[@]}"; do
      run_cell "$round" "$load" "$s"
    done
  done
done

"$PY" "$BENCH_DIR/lib/summarize.py" http "$CSV" "$REF" > "$OUT/summary.md"
cat "$OUT/summary.md"
log "done: $OUT"
