#!/usr/bin/env bash
# Cost per query of the DNS servers, back to back under one dnsperf load: CPU (user and total,
# from /proc), context switches and system calls by type (perf stat), per answered query. Zone
# and servers as in ../shared/bench/dns.sh; the query file is written the same way.
#   scripts/profile/dns-perfstat.sh 'DNSPERF ARGS' SYSTEM...   SYSTEM: gdnsd, knot, glb
# GLB_BIN picks the glb build; GLB_ENV adds environment for it. Example, a fixed 100k qps:
#   scripts/profile/dns-perfstat.sh '-c 1 -q 100 -Q 100000' gdnsd glb gdnsd glb
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/../shared/bench/lib/common.sh"
source "$here/../shared/bench/lib/dns-servers.sh"
load=$1; shift
queries=$WORK/queries.txt
"$PY" - > "$queries" <<'PY'
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
events=task-clock,context-switches,raw_syscalls:sys_enter
for call in epoll_wait epoll_pwait recvmmsg sendmmsg recvfrom sendto recvmsg sendmsg futex; do
  events+=",syscalls:sys_enter_$call"
done
ticks() {  # sum of utime (field 14) [+ stime (15)] over every thread of the given pids
  local total=0 f
  for p in ${1//,/ }; do for f in /proc/$p/task/*/stat; do
    total=$((total + $(awk -v both="$2" '{print both ? $14 + $15 : $14}' "$f")))
  done; done
  echo $total
}
start_clusters
for sys in "$@"; do
  case $sys in
    gdnsd|knot) start_dns "$sys" ;;
    glb) start_dns "cmd:env ${GLB_ENV:-} $here/scripts/bench-dns.sh" ;;
    *) die "unknown system $sys" ;;
  esac
  case $sys in
    gdnsd) pids=$(pgrep -x gdnsd | paste -sd,) ;;
    knot) pids=$(pgrep -x knotd | paste -sd,) ;;
    glb) pids=$(pgrep -f ' agent --data .*--dns' | paste -sd,) ;;
  esac
  dnsperf -s "$DNS_ADDR" -p "$DNS_PORT" -d "$queries" -l 2 $load >/dev/null 2>&1 || true   # warm-up
  all0=$(ticks "$pids" 1); user0=$(ticks "$pids" 0)
  perf stat -x, -e "$events" -p "$pids" -o "$WORK/perf-$sys.txt" -- sleep 6 & stat=$!
  dnsperf -s "$DNS_ADDR" -p "$DNS_PORT" -d "$queries" -l 6 $load > "$WORK/dnsperf-$sys.txt" 2>&1 || true
  wait $stat || true
  all1=$(ticks "$pids" 1); user1=$(ticks "$pids" 0)
  n=$(awk '/Queries completed:/ {print $3}' "$WORK/dnsperf-$sys.txt")
  echo "== $sys '$load': $n queries, $(awk '/Queries per second:/ {print $4}' "$WORK/dnsperf-$sys.txt") qps"
  awk -v n="$n" -v u=$((user1 - user0)) -v a=$((all1 - all0)) 'BEGIN {
    printf "  %-32s %9.2f\n  %-32s %9.2f\n", "CPU us/q (proc, user+sys)", a * 1e4 / n, "user CPU us/q", u * 1e4 / n }'
  awk -F, -v n="$n" '$1 + 0 > 0 {printf "  %-32s %9.3f /q\n", $3, $1 / n}' "$WORK/perf-$sys.txt"
  stop_dns
done
