# Sourced by scripts/profile/*-perfstat.sh: the cost per unit of work of a server process.
#   perf_events CALL...         the perf stat event list: task clock, context switches, every
#                               system call, and one counter per named call
#   proc_ticks PIDS BOTH        CPU ticks of every thread of PIDS (comma-separated): user time,
#                               or user + system time when BOTH is 1
#   print_cost N UNIT PERF USER0 USER1 ALL0 ALL1
#                               CPU µs per UNIT over N units, then each perf counter per unit
perf_events() {
  local events=task-clock,context-switches,raw_syscalls:sys_enter call
  for call in "$@"; do events+=",syscalls:sys_enter_$call"; done
  echo "$events"
}

proc_ticks() {
  local total=0 p f
  for p in ${1//,/ }; do for f in /proc/$p/task/*/stat; do
    total=$((total + $(awk -v both="$2" '{print both ? $14 + $15 : $14}' "$f")))
  done; done
  echo $total
}

print_cost() {
  local n=$1 unit=$2 perf=$3
  awk -v n="$n" -v u=$(($5 - $4)) -v a=$(($7 - $6)) -v unit="$unit" 'BEGIN {
    printf "  %-32s %9.2f\n  %-32s %9.2f\n", "CPU us/" unit " (proc, user+sys)", a * 1e4 / n, "user CPU us/" unit, u * 1e4 / n }'
  awk -F, -v n="$n" -v unit="$unit" '$1 + 0 > 0 && $3 != "task-clock" {printf "  %-32s %9.3f /%s\n", $3, $1 / n, unit}' "$perf"
}
