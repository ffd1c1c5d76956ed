#!/usr/bin/env bash
# Cost per query of the DNS servers, back to back under one dnsperf load: CPU (user and total,
# from /proc), context switches and system calls by type (perf stat), per answered query. Zone
# and servers as in scripts/bench/dns.sh; the query file is written the same way.
#   scripts/profile/dns-perfstat.sh 'DNSPERF ARGS' SYSTEM...   SYSTEM: gdnsd, knot, glb
# GLB_BIN picks the glb build; GLB_ENV adds environment for it. Example, a fixed 100k qps:
#   scripts/profile/dns-perfstat.sh '-c 1 -q 100 -Q 100000' gdnsd glb gdnsd glb
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/bench/lib/common.sh"
source "$here/scripts/bench/lib/dns-servers.sh"
source "$here/scripts/lib/perfstat.sh"
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
events=$(perf_events epoll_wait epoll_pwait recvmmsg sendmmsg recvfrom sendto recvmsg sendmsg futex)
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
  all0=$(proc_ticks "$pids" 1); user0=$(proc_ticks "$pids" 0)
  perf stat -x, -e "$events" -p "$pids" -o "$WORK/perf-$sys.txt" -- sleep 6 & stat=$!
  dnsperf -s "$DNS_ADDR" -p "$DNS_PORT" -d "$queries" -l 6 $load > "$WORK/dnsperf-$sys.txt" 2>&1 || true
  wait $stat || true
  all1=$(proc_ticks "$pids" 1); user1=$(proc_ticks "$pids" 0)
  n=$(awk '/Queries completed:/ {print $3}' "$WORK/dnsperf-$sys.txt")
  echo "== $sys '$load': $n queries, $(awk '/Queries per second:/ {print $4}' "$WORK/dnsperf-$sys.txt") qps"
  print_cost "$n" q "$WORK/perf-$sys.txt" "$user0" "$user1" "$all0" "$all1"
  stop_dns
done
