#!/usr/bin/env bash
# bench-tls.sh -- TLS termination beside nginx and HAProxy, on loopback with wrk.
#
# scripts/bench/http-proxy.sh has no TLS mode, so this script runs the same kind of cells with
# its helpers (scripts/bench/lib/common.sh: sessions, /proc CPU accounting, origins) and its
# summarizer. Every system terminates TLS on 127.0.0.1:18443 with the same ECDSA P-256
# certificate (made here with openssl), TLS 1.2-1.3 with Mozilla's intermediate ciphers, and
# proxies plain HTTP to two nginx origins (127.0.0.1:18181, :18182) with keep-alive pools.
#
# Usage: scripts/bench-tls.sh [SYSTEM ...]      (default: glb haproxy nginx)
#   glb       this repo's release build: scripts/bench-proxy.sh with CERTS set (--https)
#   haproxy   nbthread 2, bind ... ssl crt, http-reuse always
#   nginx     worker_processes 2, listen ... ssl, upstream keepalive
# Loads (LOADS; default "tls-ka64 tls-new64"):
#   tls-ka64   keep-alive, 64 connections, GET /: requests per second over established TLS
#   tls-new64  'Connection: close', 64 connections: every request is a new TCP connection and a
#              full TLS handshake (wrk resumes no sessions), so req/s = new handshakes per second
# Rounds are interleaved (A B C A B C ...); the summary gives medians, per-round ratios against
# REF (default haproxy) and the proxy's CPU per request. Knobs: ROUNDS=3 DURATION=10 WARMUP=1
# WRK_THREADS=1 REF=haproxy OUT=./.bench-results/tls-<timestamp>.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/bench/lib/common.sh"
source "$here/scripts/lib/nginx-proxy.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
WRK_THREADS=${WRK_THREADS:-1}
LOADS=${LOADS:-"tls-ka64 tls-new64"}
REF=${REF:-haproxy}
OUT=${OUT:-$here/.bench-results/tls-$(date +%Y%m%d-%H%M%S)}
LISTEN=127.0.0.1:18443
ORIGINS=127.0.0.1:18181,127.0.0.1:18182
CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305

SYSTEMS=("$@")
[[ ${#SYSTEMS[@]} -eq 0 ]] && SYSTEMS=(glb haproxy nginx)
for p in 18443 18181 18182 18997; do assert_free "$p"; done
command -v wrk >/dev/null || die "wrk not installed (scripts/bootstrap.sh --bench)"
[[ -x $here/.build/release/glb ]] || die "build glb first: swift build -c release --product glb"

mkdir -p "$OUT/wrk" "$WORK/certs"
CSV=$OUT/raw.csv
echo "round,load,system,rps,p50_ms,p99_ms,requests,sock_errors,non2xx,proxy_cpu_pct,proxy_us_per_req,proxy_hwm_mb,proxy_pss_mb,wrk_cpu_pct,origins_cpu_pct,foreign_cpu_pct,irq_cpu_pct" > "$CSV"

# One certificate for everyone: P-256, SAN www.glb.example and 127.0.0.1 (wrk's SNI is the URL's host).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=www.glb.example \
  -addext "subjectAltName=DNS:www.glb.example,IP:127.0.0.1" -keyout "$WORK/certs/www.key" -out "$WORK/certs/www.crt" 2>/dev/null
cat "$WORK/certs/www.crt" "$WORK/certs/www.key" > "$WORK/site.pem"

write_haproxy_cfg() {
  cat > "$WORK/haproxy.cfg" <<CFG
global
  nbthread 2
  maxconn 8000
  ssl-default-bind-ciphers $CIPHERS
  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind $LISTEN ssl crt $WORK/site.pem alpn http/1.1
  default_backend origins
backend origins
  balance roundrobin
  http-reuse always
  server o1 127.0.0.1:18181
  server o2 127.0.0.1:18182
CFG
}

write_nginx_cfg() {
  write_nginx_proxy_conf "$WORK/nginx-tls" "$LISTEN ssl" "127.0.0.1:18181 127.0.0.1:18182" "\
    ssl_certificate $WORK/certs/www.crt;
    ssl_certificate_key $WORK/certs/www.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $CIPHERS;
    ssl_prefer_server_ciphers off;
    ssl_session_tickets on;"
}

start_proxy() {
  case $1 in
    glb)
      start_bg glb env ORIGINS="$ORIGINS" LISTEN="$LISTEN" CERTS="$WORK/certs" BENCH_TMP="$WORK" BENCH_ADMIN=127.0.0.1:18997 \
        bash "$here/scripts/bench-proxy.sh" ;;
    haproxy)
      write_haproxy_cfg
      haproxy -c -q -f "$WORK/haproxy.cfg" || die "bad haproxy config"
      start_bg haproxy haproxy -db -f "$WORK/haproxy.cfg" ;;
    nginx)
      write_nginx_cfg
      start_bg nginx-tls nginx -e "$WORK/nginx-tls/error.log" -c "$WORK/nginx-tls/nginx.conf" -g 'daemon off;' ;;
    *) die "unknown system '$1'" ;;
  esac
  PROXY_PID=$LAST_PID
  wait_tcp 127.0.0.1 18443 15 || { tail -n 20 "$WORK"/*.log >&2 || true; die "$1 did not listen on $LISTEN"; }
}

stop_proxy() {
  stop_tree "$PROXY_PID" TERM
  forget_pid "$PROXY_PID"
  local i
  for i in $(seq 100); do ss -Hltn "( sport = :18443 )" | grep -q . || break; sleep 0.1; done
}

wrk_args() {
  case $1 in
    tls-ka64)  WRK_ARGS=(-c64) ;;
    tls-new64) WRK_ARGS=(-c64 -H 'Connection: close') ;;
    *) die "unknown load $1" ;;
  esac
}

start_origin origin1 127.0.0.1:18181 1; O1=$LAST_PID
start_origin origin2 127.0.0.1:18182 1; O2=$LAST_PID
log "work dir $WORK ; results -> $OUT ; systems: ${SYSTEMS[*]} ; loads: $LOADS ; rounds: $ROUNDS x ${DURATION}s"

run_cell() {
  local round=$1 load=$2 label=$3 url=https://$LISTEN/
  wrk_args "$load"
  start_proxy "$label"
  curl -fsS -o /dev/null --max-time 5 --cacert "$WORK/certs/www.crt" "$url" || die "$label: GET $url failed"
  timeout $((WARMUP + 20)) wrk -t"$WRK_THREADS" "${WRK_ARGS[@]}" -d"${WARMUP}s" "$url" > /dev/null 2>&1 || true
  local pss_file=$WORK/pss.$label p0 p1 m0 m1 q0 q1 o0 o1 t0 t1 wrkout=$OUT/wrk/r${round}-${load}-${label}.txt
  pss_sampler "$PROXY_PID" "$pss_file"
  p0=$(tree_ticks "$PROXY_PID"); o0=$(( $(tree_ticks "$O1") + $(tree_ticks "$O2") ))
  m0=$(machine_busy_ticks); q0=$(machine_irq_ticks); t0=$(now)
  local TIMEFORMAT='%U %S'
  { time timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" "${WRK_ARGS[@]}" -d"${DURATION}s" --latency "$url" > "$wrkout" 2>&1 ; } 2> "$WORK/wrk.time" || true
  t1=$(now); m1=$(machine_busy_ticks); q1=$(machine_irq_ticks)
  o1=$(( $(tree_ticks "$O1") + $(tree_ticks "$O2") ))
  p1=$(tree_ticks "$PROXY_PID"); local hwm; hwm=$(tree_hwm_kb "$PROXY_PID")
  stop_sampler "$pss_file"; local pss; pss=$(cat "$pss_file")
  stop_proxy
  local rps reqs p50 p99 serr n2xx wcpu
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$wrkout")
  reqs=$(awk '/requests in/ {print $1}' "$wrkout")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$wrkout")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$wrkout")")
  serr=$(awk '/Socket errors:/ {gsub(",","");print $4+$6+$8+$10}' "$wrkout"); serr=${serr:-0}
  n2xx=$(awk '/Non-2xx/ {print $NF}' "$wrkout"); n2xx=${n2xx:-0}
  wcpu=$(awk -v hz="$CLK_TCK" '{printf "%d", ($1+$2)*hz}' "$WORK/wrk.time")
  [[ -n $rps ]] || { cat "$wrkout" >&2; die "$label/$load: wrk produced no result"; }
  awk -v r="$round" -v l="$load" -v s="$label" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v reqs="$reqs" -v serr="$serr" \
      -v n2xx="$n2xx" -v pd=$((p1 - p0)) -v od=$((o1 - o0)) -v md=$((m1 - m0)) -v qd=$((q1 - q0)) -v wt="$wcpu" \
      -v hwm="$hwm" -v pss="$pss" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" 'BEGIN{
        el=t1-t0; foreign=(md-pd-od-wt)/hz/el*100; if (foreign<0) foreign=0;
        printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f\n", r,l,s,rps,p50,p99,reqs,serr,n2xx,
          pd/hz/el*100, (reqs>0 ? pd/hz*1e6/reqs : 0), hwm/1024, pss/1024, wt/hz/el*100, od/hz/el*100, foreign, qd/hz/el*100 }' >> "$CSV"
  log "r$round $load $label: $(tail -1 "$CSV")"
}

for round in $(seq "$ROUNDS"); do
  for load in $LOADS; do
    # Rotate the order each round, so no system always runs first (TOOLCHAIN.md pitfall 16).
    for i in "${!SYSTEMS[@]}"; do
      run_cell "$round" "$load" "${SYSTEMS[$(( (i + round - 1) % ${#SYSTEMS[@]} ))]}"
    done
  done
done

"$PY" "$BENCH_DIR/lib/summarize.py" http "$CSV" "$REF" > "$OUT/summary.md"
cat "$OUT/summary.md"
log "done: $OUT"
