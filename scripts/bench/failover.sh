#!/usr/bin/env bash
# scripts/bench/failover.sh -- health-checked failover timing (loopback only).
#
# Usage:
#   scripts/bench/failover.sh dns  [SYSTEM ...]   (default: gdnsd-fall2 gdnsd-min gdnsd-default)
#   scripts/bench/failover.sh http [SYSTEM ...]   (default: haproxy-noretry haproxy-retry nginx)
#
# dns systems:
#   gdnsd-min       gdnsd, http_status monitor, interval 2 s (gdnsd minimum),
#                   timeout 1, down_thresh 1, up_thresh 1, ok_thresh 1
#   gdnsd-fall2     same, down_thresh 2, up_thresh 2, ok_thresh 2
#                   (the gdnsd analogue of haproxy `fall 2 rise 2`)
#   gdnsd-default   same, gdnsd default thresholds (down 10, ok 10, up 20)
#   cmd:<command>   any DNS server (env DNS_LISTEN, CLUSTERS, CLUSTER_PORT as
#                   in scripts/bench/dns.sh) that health-checks the clusters itself
#   Each trial: wait for www.glb.example A to contain all 3 cluster addresses,
#   sleep a random 0-2 s (monitor phase), SIGKILL cluster 2 (127.0.1.2:18090,
#   master+worker), poll `dig` every 100 ms until 127.0.1.2 disappears from
#   the answer (= time to fail out), wait a random 1-3 s, restart it, poll
#   until it is back (= time to fail back).
#
# http systems (proxy on 127.0.0.1:18080, origins 127.0.0.1:18081/18082):
#   haproxy-noretry haproxy `check inter 1s fall 2 rise 2`, retries 0
#   haproxy-retry   same + retries 3, option redispatch 1,
#                   retry-on all-retryable-errors (L7 retries)
#   nginx           nginx upstream, passive only (max_fails=1 fail_timeout=10s,
#                   proxy_next_upstream error timeout: the defaults)
#   cmd:<command>   any proxy (env ORIGINS, LISTEN as in scripts/bench/http-proxy.sh)
#   Each trial: fresh proxy; wrk -t1 -c64 -d16s in the background plus a
#   100 ms curl poller (2 requests per tick); at t=3 s SIGKILL origin 1; for
#   haproxy poll the stats socket every 100 ms until o1 is DOWN (time to stop
#   routing); at t=8 s restart origin 1; time until haproxy marks it UP and
#   until the poller sees origin 1's body again (works for any proxy).
#   Client damage = wrk non-2xx + socket errors, and poller failures.
#
# Environment: TRIALS=3, OUT=./.bench-results/failover-<mode>-<timestamp>
# Ports: 15353, 18080-18082, 18090 on 127.0.1.{1,2,3}.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$BENCH_DIR/lib/dns-servers.sh"

MODE=${1:-}; shift || true
TRIALS=${TRIALS:-3}
OUT=${OUT:-$PWD/.bench-results/failover-$MODE-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
SYSTEMS=("$@")

# ====================================================================== DNS
dns_has() {  # ADDR -> 0 if www.glb.example A answer contains ADDR
  dig +time=1 +tries=1 +short @"$DNS_ADDR" -p "$DNS_PORT" www.glb.example A 2>/dev/null | grep -qx "$1"
}

# poll_until TIMEOUT_S CMD... : run CMD every 100 ms until it succeeds;
# echoes the success timestamp; returns 1 on timeout.
poll_until() {
  local limit=$1; shift
  local end next t
  end=$(awk -v a="$(now)" -v b="$limit" 'BEGIN{printf "%.3f", a+b}')
  next=$(now)
  while :; do
    t=$(now)
    if "$@"; then echo "$t"; return 0; fi
    awk -v a="$t" -v b="$end" 'BEGIN{exit !(a>b)}' && return 1
    next=$(awk -v n="$next" 'BEGIN{printf "%.3f", n+0.1}')
    sleep "$(awk -v n="$next" -v t="$(now)" 'BEGIN{d=n-t; if(d<0)d=0; printf "%.3f", d}')"
  done
}
not() { ! "$@"; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }

run_dns() {
  [[ ${#SYSTEMS[@]} -eq 0 ]] && SYSTEMS=(gdnsd-fall2 gdnsd-min gdnsd-default)
  assert_free "$DNS_PORT"; assert_free "$CLUSTER_PORT"
  local CSV=$OUT/raw.csv
  echo "trial,system,fail_out_s,fail_back_s,ttl_while_down" > "$CSV"
  start_clusters
  local trial s label spec victim=${CLUSTERS[1]}
  for trial in $(seq "$TRIALS"); do
    for s in "${SYSTEMS[@]}"; do
      label=$(label_of "$s"); spec=$(spec_of "$s")
      case $spec in
        gdnsd-min)     MON_DOWN=1  MON_UP=1  MON_OK=1;  spec=gdnsd ;;
        gdnsd-fall2)   MON_DOWN=2  MON_UP=2  MON_OK=2;  spec=gdnsd ;;
        gdnsd-default) MON_DOWN=10 MON_UP=20 MON_OK=10; spec=gdnsd ;;
      esac
      start_dns "$spec"
      poll_until 120 dns_has "$victim" > /dev/null || die "$label: $victim never listed"
      sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", r/32767*2}')"
      local tk tdown tr tup ttl
      tk=$(now); kill_tree_now "${CLUSTER_PIDS[1]}" KILL; forget_pid "${CLUSTER_PIDS[1]}"
      tdown=$(poll_until 120 not dns_has "$victim") || tdown=""
      ttl=$(dig +noall +answer @"$DNS_ADDR" -p "$DNS_PORT" www.glb.example A 2>/dev/null | awk 'NR==1{print $2}')
      # random 1-3 s before the restart, so the restart lands at a random
      # phase of the monitor interval (a fixed delay biases fail-back times)
      sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 1 + r/32767*2}')"
      start_origin cluster2 "$victim:$CLUSTER_PORT" 1; CLUSTER_PIDS[1]=$LAST_PID; tr=$(now)
      tup=$(poll_until 180 dns_has "$victim") || tup=""
      echo "$trial,$label,${tdown:+$(dt "$tk" "$tdown")},${tup:+$(dt "$tr" "$tup")},$ttl" >> "$CSV"
      log "trial $trial $label: $(tail -1 "$CSV")"
      stop_dns
    done
  done
  "$PY" - "$CSV" > "$OUT/summary.md" <<'PY'
import csv, statistics, sys
from collections import OrderedDict
rows = list(csv.DictReader(open(sys.argv[1])))
g = OrderedDict()
for r in rows: g.setdefault(r["system"], []).append(r)
def mmm(v):
    v = [float(x) for x in v if x]
    return f"{statistics.median(v):.2f} [{min(v):.2f}–{max(v):.2f}]" if v else "timeout"
print(f"Trials per system: {max(len(v) for v in g.values())}. Seconds, median [min–max].\n")
print("| system | time to fail out (addr gone from answer) | time to fail back (addr listed again) | TTL seen while down |")
print("|---|---|---|---|")
for s, rs in g.items():
    print(f"| **{s}** | {mmm(r['fail_out_s'] for r in rs)} | {mmm(r['fail_back_s'] for r in rs)} | {rs[0]['ttl_while_down']} |")
PY
  cat "$OUT/summary.md"
}

# ===================================================================== HTTP
PROXY_ADDR=127.0.0.1 PROXY_PORT=18080
ORIGINS=127.0.0.1:18081,127.0.0.1:18082
KILL_AT=3 RESTART_AT=8 WRK_D=16

write_haproxy_fo() {  # retry|noretry
  local extra
  if [[ $1 == retry ]]; then
    extra=$'  retries 3\n  option redispatch 1\n  retry-on all-retryable-errors'
  else
    extra=$'  retries 0'
  fi
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
$extra
frontend fe
  bind $PROXY_ADDR:$PROXY_PORT
  default_backend origins
backend origins
  balance roundrobin
  http-reuse always
  option httpchk GET /health
  server o1 127.0.0.1:18081 check inter 1s fall 2 rise 2
  server o2 127.0.0.1:18082 check inter 1s fall 2 rise 2
EOF
}

write_nginx_fo() {
  local d=$WORK/nginx-proxy
  mkdir -p "$d/tmp"
  cat > "$d/nginx.conf" <<EOF
worker_processes 2;
pid $d/nginx.pid;
error_log $d/error.log crit;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  upstream origins {
    server 127.0.0.1:18081;
    server 127.0.0.1:18082;
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen $PROXY_ADDR:$PROXY_PORT backlog=4096;
    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
}

o1_state() {  # haproxy operational state of o1 (2 = running, 0 = stopped)
  echo "show servers state origins" | socat -t 1 stdio "unix-connect:$WORK/haproxy.sock" 2>/dev/null \
    | awk '$4=="o1" {print $6}'
}
o1_down() { [[ $(o1_state) == 0 ]]; }
o1_up()   { [[ $(o1_state) == 2 ]]; }

http_poller() {  # OUTFILE URL END_EPOCH : 2 requests every 100 ms until END
  local out=$1 url=$2 end=$3 t b
  : > "$out"
  while awk -v a="$(now)" -v b="$end" 'BEGIN{exit !(a<b)}'; do
    for _ in 1 2; do
      t=$(now)
      b=$(curl -s --max-time 1 -w '\n%{http_code}' "$url" 2>/dev/null | tr '\n' ' ' | awk '{print substr($1,1,7), $NF}') || true
      echo "$t ${b:-none 000}" >> "$out"
    done
    sleep 0.1
  done
}

run_http() {
  [[ ${#SYSTEMS[@]} -eq 0 ]] && SYSTEMS=(haproxy-noretry haproxy-retry nginx)
  local p; for p in 18080 18081 18082; do assert_free "$p"; done
  local CSV=$OUT/raw.csv
  echo "trial,system,stop_routing_s,mark_up_s,return_s,wrk_requests,wrk_non2xx,wrk_sock_errors,poll_total,poll_fail,poll_last_fail_after_kill_s" > "$CSV"
  start_origin origin1 127.0.0.1:18081 1; local O1=$LAST_PID
  start_origin origin2 127.0.0.1:18082 1
  local trial s label spec
  for trial in $(seq "$TRIALS"); do
    for s in "${SYSTEMS[@]}"; do
      label=$(label_of "$s"); spec=$(spec_of "$s")
      case $spec in
        haproxy-noretry) write_haproxy_fo noretry; start_bg haproxy haproxy -db -f "$WORK/haproxy.cfg" ;;
        haproxy-retry)   write_haproxy_fo retry;   start_bg haproxy haproxy -db -f "$WORK/haproxy.cfg" ;;
        nginx)           write_nginx_fo; start_bg nginx-proxy nginx -e "$WORK/nginx-proxy/error.log" -c "$WORK/nginx-proxy/nginx.conf" -g 'daemon off;' ;;
        cmd:*)           start_bg cmd-proxy env ORIGINS="$ORIGINS" LISTEN="$PROXY_ADDR:$PROXY_PORT" BENCH_TMP="$WORK" bash -c "${spec#cmd:}" ;;
        *) die "unknown system $spec" ;;
      esac
      local PP=$LAST_PID
      wait_tcp "$PROXY_ADDR" "$PROXY_PORT" 15 || die "$label did not listen"
      local url=http://$PROXY_ADDR:$PROXY_PORT/
      curl -fsS -o /dev/null --max-time 5 "$url" || die "$label: GET / failed"
      [[ $spec == haproxy* ]] && { poll_until 10 o1_up > /dev/null || die "haproxy o1 not UP"; }
      local t0 wout=$OUT/wrk-t$trial-$label.txt pout=$OUT/poll-t$trial-$label.txt
      t0=$(now)
      timeout $((WRK_D + 20)) wrk -t1 -c64 -d${WRK_D}s --latency "$url" > "$wout" 2>&1 &
      local WP=$!
      http_poller "$pout" "$url" "$(awk -v a="$t0" -v d=$WRK_D 'BEGIN{printf "%.3f", a+d}')" &
      local PLP=$!
      sleep "$(awk -v a="$t0" -v t="$(now)" -v k=$KILL_AT 'BEGIN{d=a+k-t; if(d<0)d=0; print d}')"
      local tk tdn="" tr tu="" 
      tk=$(now); kill_tree_now "$O1" KILL; forget_pid "$O1"
      if [[ $spec == haproxy* ]]; then tdn=$(poll_until 15 o1_down) || tdn=""; fi
      sleep "$(awk -v a="$t0" -v t="$(now)" -v k=$RESTART_AT 'BEGIN{d=a+k-t; if(d<0)d=0; print d}')"
      start_origin origin1 127.0.0.1:18081 1; O1=$LAST_PID; tr=$(now)
      if [[ $spec == haproxy* ]]; then tu=$(poll_until 15 o1_up) || tu=""; fi
      wait "$WP" || true
      wait "$PLP" || true
      stop_tree "$PP" TERM; forget_pid "$PP"
      local reqs n2 se
      reqs=$(awk '/requests in/ {print $1}' "$wout")
      n2=$(awk '/Non-2xx/ {print $NF}' "$wout"); n2=${n2:-0}
      se=$(awk '/Socket errors:/ {gsub(",","");print $4+$6+$8+$10}' "$wout"); se=${se:-0}
      read -r ptot pfail plast pret < <(awk -v tk="$tk" -v tr="$tr" '
        {n++; ok=($3=="200"); if(!ok){f++; if($1>=tk && $1<tr) last=$1-tk}
         if($1>=tr && ok && $2 ~ /^origin1/ && ret=="") ret=$1-tr}
        END{printf "%d %d %s %s\n", n, f, (last==""?"-":sprintf("%.2f",last)), (ret==""?"-":sprintf("%.2f",ret))}' "$pout")
      echo "$trial,$label,${tdn:+$(dt "$tk" "$tdn")},${tu:+$(dt "$tr" "$tu")},${pret/-/},$reqs,$n2,$se,$ptot,$pfail,${plast/-/}" >> "$CSV"
      log "trial $trial $label: $(tail -1 "$CSV")"
    done
  done
  "$PY" - "$CSV" > "$OUT/summary.md" <<'PY'
import csv, statistics, sys
from collections import OrderedDict
rows = list(csv.DictReader(open(sys.argv[1])))
g = OrderedDict()
for r in rows: g.setdefault(r["system"], []).append(r)
def mmm(v, fmt="{:.2f}"):
    v = [float(x) for x in v if x not in ("", None)]
    if not v: return "–"
    return f"{fmt.format(statistics.median(v))} [{fmt.format(min(v))}–{fmt.format(max(v))}]"
print(f"Trials per system: {max(len(v) for v in g.values())}. median [min–max]. Kill origin1 at t=3 s, restart at t=8 s, wrk -c64 16 s.\n")
print("| system | stop routing (s, stats) | marked UP after restart (s) | origin1 seen again by client (s) | failed wrk requests (non-2xx + sock err) | wrk requests | poller failures / probes | last poller failure after kill (s) |")
print("|---|---|---|---|---|---|---|---|")
for s, rs in g.items():
    fails = [float(r["wrk_non2xx"]) + float(r["wrk_sock_errors"]) for r in rs]
    print(f"| **{s}** | {mmm(r['stop_routing_s'] for r in rs)} | {mmm(r['mark_up_s'] for r in rs)} | "
          f"{mmm(r['return_s'] for r in rs)} | {mmm(fails, '{:.0f}')} | {mmm((r['wrk_requests'] for r in rs), '{:.0f}')} | "
          f"{mmm((r['poll_fail'] for r in rs), '{:.0f}')} / {mmm((r['poll_total'] for r in rs), '{:.0f}')} | {mmm(r['poll_last_fail_after_kill_s'] for r in rs)} |")
PY
  cat "$OUT/summary.md"
}

case $MODE in
  dns)  run_dns ;;
  http) run_http ;;
  *) die "usage: $0 dns|http [SYSTEM ...]" ;;
esac
log "done: $OUT"
