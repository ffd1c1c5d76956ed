#!/usr/bin/env bash
# Kernel-side cost per request of the proxies, back to back under one wrk load: CPU (user and
# total, from /proc), context switches and system calls by type (perf stat), per request. Two
# nginx origins as in scripts/bench/http-proxy.sh; nginx as the proxy is configured as there.
#   scripts/profile/http-perfstat.sh LOAD SYSTEM...   LOAD: ka64 ka256 big64 close64
#                                                     SYSTEM: nginx, glb (GLB_BIN picks a build)
# Example: scripts/profile/http-perfstat.sh close64 nginx glb nginx glb
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/bench/lib/common.sh"
source "$here/scripts/lib/nginx-proxy.sh"
source "$here/scripts/lib/perfstat.sh"
load=$1; shift
case $load in
  ka64) args=(-c64); path=/ ;; ka256) args=(-c256); path=/ ;; big64) args=(-c64); path=/big ;;
  close64) args=(-c64 -H 'Connection: close'); path=/ ;;
  *) die "unknown load $load" ;;
esac
start_origin origin1 127.0.0.1:18081 1
start_origin origin2 127.0.0.1:18082 1
d=$WORK/nginx-proxy
write_nginx_proxy_conf "$d" 127.0.0.1:18080 "127.0.0.1:18081 127.0.0.1:18082"
events=$(perf_events accept4 epoll_wait epoll_pwait epoll_ctl read recvfrom write writev sendto close)
for sys in "$@"; do
  case $sys in
    nginx) start_bg nginx-proxy nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' ;;
    glb) start_bg glb env BENCH_TMP="$WORK" bash "$here/scripts/bench-proxy.sh" ;;
    *) die "unknown system $sys" ;;
  esac
  pid=$LAST_PID
  wait_tcp 127.0.0.1 18080 15 || die "$sys did not listen"
  wrk -t1 "${args[@]}" -d2s "http://127.0.0.1:18080$path" >/dev/null 2>&1 || true   # warm-up
  if [[ $sys == nginx ]]; then pids=$(pgrep -P "$pid" | paste -sd,); else pids=$(pgrep -f ' agent .*--http' | paste -sd,); fi
  all0=$(proc_ticks "$pids" 1); user0=$(proc_ticks "$pids" 0)
  perf stat -x, -e "$events" -p "$pids" -o "$WORK/perf-$sys.txt" -- sleep 6 & stat=$!
  wrk -t1 "${args[@]}" -d6s "http://127.0.0.1:18080$path" > "$WORK/wrk-$sys.txt" 2>&1
  wait $stat || true
  all1=$(proc_ticks "$pids" 1); user1=$(proc_ticks "$pids" 0)
  n=$(awk '/requests in/ {print $1}' "$WORK/wrk-$sys.txt")
  echo "== $sys $load: $n requests, $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk-$sys.txt") req/s"
  print_cost "$n" req "$WORK/perf-$sys.txt" "$user0" "$user1" "$all0" "$all1"
  stop_tree "$pid" TERM; forget_pid "$pid"
  for _ in $(seq 100); do ss -Hltn "( sport = :18080 )" | grep -q . || break; sleep 0.1; done
done
