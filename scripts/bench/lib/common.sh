# shellcheck shell=bash
# scripts/bench/lib/common.sh -- helpers shared by GLB's side-by-side benchmark scripts.
#
# Sourced by http-proxy.sh, dns.sh and failover.sh.  Provides:
#   * process management: every process is started in its own session
#     (setsid) so its whole tree can be found by session id, and stopped
#     by PID on exit (never by name);
#   * /proc based accounting: CPU ticks and peak RSS / PSS of a process tree,
#     machine-wide busy ticks (to quantify noise from other jobs);
#   * small utilities: wait for a TCP port, assert a port is free, log.
#
# Safety rules baked in: all listeners are on 127.0.0.0/8, ports in
# 18000-18999 / 15300-15399; every load run is time-bounded by its tool's
# duration flag plus a `timeout` wrapper.

set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
PY=${PY:-python3}

# Scratch directory for generated configs, logs, pid files.  A directory we
# create is removed on exit unless KEEP_WORK=1.
if [[ -z ${WORK:-} ]]; then
  WORK=$(mktemp -d /tmp/glb-bench.XXXXXX)
  WORK_IS_TEMP=1
fi
mkdir -p "$WORK"
chmod 755 "$WORK"   # nginx workers run as www-data and must read files here

STARTED_PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now() { date +%s.%N; }

# start_bg NAME CMD... : run CMD in a new session, stdout/stderr to
# $WORK/NAME.log.  Sets LAST_PID (== its session id).  Must not be called
# inside $(...) (the PID would not be a child of this shell).
start_bg() {
  local name=$1; shift
  setsid "$@" >"$WORK/$name.log" 2>&1 < /dev/null &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

# session_pids SID : all live PIDs whose session id is SID.
session_pids() {
  ps -e -o pid=,sid= 2>/dev/null | awk -v s="$1" '$2==s {print $1}'
}

# stop_tree SID [SIGNAL] : signal the leader, wait up to 5 s, then SIGKILL
# every remaining member of that session, one PID at a time.
stop_tree() {
  local sid=$1 sig=${2:-TERM} p i
  [[ -z $sid ]] && return 0
  kill -s "$sig" "$sid" 2>/dev/null || true
  for i in $(seq 50); do
    [[ -z $(session_pids "$sid") ]] && break
    sleep 0.1
  done
  for p in $(session_pids "$sid"); do kill -KILL "$p" 2>/dev/null || true; done
  wait "$sid" 2>/dev/null || true
}

# kill_tree_now SID SIGNAL : send SIGNAL to every member of the session at
# once (used to simulate a crash: SIGKILL to master and workers).
kill_tree_now() {
  local sid=$1 sig=${2:-KILL} p
  for p in $(session_pids "$sid"); do kill -s "$sig" "$p" 2>/dev/null || true; done
  wait "$sid" 2>/dev/null || true
}

cleanup_all() {
  local p
  for p in "${STARTED_PIDS[@]}"; do
    stop_tree "$p" TERM
  done
  STARTED_PIDS=()
  if [[ ${WORK_IS_TEMP:-} == 1 && ${KEEP_WORK:-0} != 1 ]]; then
    rm -rf "$WORK"
  fi
}

# forget_pid PID : drop a stopped PID from the cleanup list.
forget_pid() {
  local p keep=()
  for p in "${STARTED_PIDS[@]}"; do [[ $p != "$1" ]] && keep+=("$p"); done
  STARTED_PIDS=("${keep[@]}")
}

trap 'cleanup_all' EXIT
trap 'exit 130' INT TERM

# wait_tcp HOST PORT [TIMEOUT_S]
wait_tcp() {
  local host=$1 port=$2 t=${3:-15} i
  for i in $(seq $((t * 20))); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# assert_free PORT [proto] : fail if something already listens on PORT.
assert_free() {
  local port=$1
  if ss -Hltnu "( sport = :$port )" 2>/dev/null | grep -q .; then
    die "port $port already in use: $(ss -Hltnup "( sport = :$port )")"
  fi
}

# tree_ticks SID : utime+stime (clock ticks) summed over the session.
tree_ticks() {
  local p sum=0 t
  for p in $(session_pids "$1"); do
    # fields 14,15 after the ')' of comm
    t=$(awk '{sub(/^.*\) /,""); print $12+$13}' "/proc/$p/stat" 2>/dev/null) || continue
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

# tree_hwm_kb SID : sum of VmHWM (peak RSS) over the session, in KiB.
# Over-counts shared pages for multi-process servers (nginx master+workers).
tree_hwm_kb() {
  local p sum=0 v
  for p in $(session_pids "$1"); do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# tree_pss_kb SID : current PSS summed over the session, in KiB (shared
# pages split fairly between processes).
tree_pss_kb() {
  local p sum=0 v
  for p in $(session_pids "$1"); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# machine_busy_ticks : jiffies of all CPUs spent in processes (user+nice+system).
# Without CONFIG_IRQ_TIME_ACCOUNTING, irq/softirq ticks (loopback TCP work!)
# are not charged to any process; they are reported separately.
machine_busy_ticks() {
  awk '/^cpu / {print $2+$3+$4}' /proc/stat
}
# machine_irq_ticks : irq+softirq+steal jiffies of all CPUs.
machine_irq_ticks() {
  awk '/^cpu / {print $7+$8+$9}' /proc/stat
}

# pss_sampler SID OUTFILE : background loop writing the max summed PSS seen
# (KiB) to OUTFILE every 0.5 s.  Sets SAMPLER_PID.  Stops by itself when the
# session disappears or OUTFILE.stop exists.
pss_sampler() {
  local sid=$1 out=$2
  rm -f "$out.stop"; echo 0 > "$out"
  (
    max=0
    while kill -0 "$sid" 2>/dev/null && [[ ! -e $out.stop ]]; do
      v=$(tree_pss_kb "$sid")
      if (( v > max )); then max=$v; echo "$max" > "$out"; fi
      sleep 0.5
    done
  ) &
  SAMPLER_PID=$!
}
stop_sampler() { touch "$1.stop"; wait "$SAMPLER_PID" 2>/dev/null || true; }

# to_ms VALUE_WITH_UNIT (wrk style: 512.00us, 1.20ms, 2.00s) -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN{
    if (v ~ /us$/) {sub(/us$/,"",v); printf "%.3f", v/1000}
    else if (v ~ /ms$/) {sub(/ms$/,"",v); printf "%.3f", v}
    else if (v ~ /m$/) {sub(/m$/,"",v); printf "%.3f", v*60000}
    else if (v ~ /s$/) {sub(/s$/,"",v); printf "%.3f", v*1000}
    else printf "NA" }'
}

# label_of SPEC : "name=cmd:..." -> name ; "cmd:foo bar" -> "cmd" ; "x" -> x
label_of() {
  local s=$1
  if [[ $s == *=* && ${s%%=*} != *:* ]]; then echo "${s%%=*}";
  elif [[ $s == cmd:* ]]; then echo "cmd";
  else echo "$s"; fi
}
# spec_of SPEC : strips an optional "name=" prefix.
spec_of() {
  local s=$1
  if [[ $s == *=* && ${s%%=*} != *:* ]]; then echo "${s#*=}"; else echo "$s"; fi
}

# ---------------------------------------------------------------- origins
# start_origin NAME ADDR:PORT [WORKERS]
# nginx origin: GET / -> 200 with a fixed 100-byte text body naming the
# origin; GET /big -> 16384-byte static file; GET /health -> "ok".
# Sets LAST_PID (nginx master, daemon off).
start_origin() {
  local name=$1 listen=$2 workers=${3:-1}
  local d="$WORK/$name"
  mkdir -p "$d/www" "$d/tmp"
  [[ -f $d/www/big.bin ]] || head -c 16384 /dev/zero | tr '\0' 'b' > "$d/www/big.bin"
  # 100-byte body: "<name> " padded with 'x' to 99 chars + newline
  local body
  body=$(printf '%-99s' "$name " | tr ' ' 'x')
  cat > "$d/nginx.conf" <<CONF
worker_processes $workers;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  default_type text/plain;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  server {
    listen $listen backlog=4096;
    location = / { return 200 "$body\n"; }
    location = /big { alias $d/www/big.bin; }
    location = /health { return 200 "ok\n"; }
  }
}
CONF
  start_bg "$name" nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;'
  wait_tcp "${listen%:*}" "${listen##*:}" 10 || die "origin $name did not start (see $WORK/$name.log)"
}
