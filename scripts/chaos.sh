#!/usr/bin/env bash
# Chaos tests for GLB regions: the three regions of deploy/demo/three-regions.sh (an agent and
# a python3 origin per region, each in its own network namespace on one bridge; gossip with a
# key; every agent probing every origin), put through four faults, each held for a while, then
# healed, then checked back to normal:
#
#   partition    eu-1 cut from us-1 and ap-1 (iptables DROP both ways in eu-1's namespace)
#   asymmetric   ap-1 hears us-1, us-1 does not hear ap-1 (iptables DROP in one direction)
#   loss         30% packet loss between the eu and us regions (tc netem, else iptables'
#                statistic match when the kernel has no netem)
#   skew         ap-1's wall clock 10 s ahead (libfaketime on that one agent)
#
# While a fault is in place, each node's DNS answer for www and its `glb status --json` are
# sampled every 200 ms. It asserts that no answer is ever empty, that no healthy origin ever
# leaves any node's answers (all origins stay reachable from every node, so only a bug could
# fail one over), that writes made on each side converge on every node by the HLC rule within
# 10 s of the heal, and, under loss and skew, that every gossip member stays alive. It prints a
# table of scenario, check, result and numbers, and exits 1 if any check failed.
# docs/chaos.md says more.
#
#   sudo scripts/chaos.sh [partition|asymmetric|loss|skew ...]     (or: sudo make chaos)
#
# Knobs: GLB=/path/to/glb (default .build/release/glb, built if missing), CHAOS_HOLD=20 (seconds
# each fault is held), CHAOS_LOSS=auto|netem|iptables, CHAOS_ISOLATE=eu|us|ap (the region the
# partition cuts off), CHAOS_LOGS=DIR (keep the agents' logs there). Needs root, iproute2,
# iptables, dig, curl, openssl, python3 and faketime: missing ones are installed with apt-get.
# Touches nothing outside its namespaces (glbchaos-*) and a temporary directory, and removes
# them on exit, Ctrl-C included.
#
#   namespace glbchaos-lan     bridge glbchaos0
#   namespace glbchaos-eu      agent eu-1 (eu-west)   10.78.0.11  DNS :5353, admin 127.0.0.1:9090
#   namespace glbchaos-us      agent us-1 (us-east)   10.78.0.12  gossip :7946
#   namespace glbchaos-ap      agent ap-1 (ap-south)  10.78.0.13
#   namespace glbchaos-eu-web  origin eu  10.78.0.21:8000   (and us-web .22, ap-web .23)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GLB=${GLB:-$ROOT/.build/release/glb}
PREFIX=glbchaos
BRIDGE=glbchaos0
VETH=gc-
NET=10.78.0
REGIONS=(eu us ap)
declare -A REGION_NAME=([eu]=eu-west [us]=us-east [ap]=ap-south)
declare -A NODE_IP=([eu]=$NET.11 [us]=$NET.12 [ap]=$NET.13)
declare -A ORIGIN_IP=([eu]=$NET.21 [us]=$NET.22 [ap]=$NET.23)
ORIGIN_PORT=8000
ZONE=glb.example.
ADMIN=127.0.0.1:9090
ALL_ORIGINS="ap eu us "            # what answers() gives when every origin is in the answer
HOLD=${CHAOS_HOLD:-20}             # seconds each fault is held
SAMPLE_MS=200                      # one sampling round (every node's DNS answer and status)
CONVERGE_S=10                      # writes must agree on every node this soon after a heal
RECOVER_S=45                       # and everything be back to normal this soon
LOSS_PERCENT=30
SKEW=+10s
LOSS_WITH=${CHAOS_LOSS:-auto}
ISOLATE=${CHAOS_ISOLATE:-eu}       # the region the partition cuts off
ALL_SCENARIOS=(partition asymmetric loss skew)

usage() { local IFS='|'; echo "usage: $0 [${ALL_SCENARIOS[*]} ...]   (default: all four)" >&2; exit 2; }
SCENARIOS=()
for arg in "$@"; do
    case $arg in
        partition|asymmetric|loss|skew) SCENARIOS+=("$arg") ;;
        *) usage ;;
    esac
done
((${#SCENARIOS[@]})) || SCENARIOS=("${ALL_SCENARIOS[@]}")
[[ $HOLD =~ ^[0-9]+$ ]] && ((HOLD >= 5 && HOLD <= 120)) || { echo "CHAOS_HOLD must be 5..120 seconds" >&2; exit 2; }
case $LOSS_WITH in auto|netem|iptables) ;; *) echo "CHAOS_LOSS must be auto, netem or iptables" >&2; exit 2 ;; esac
case $ISOLATE in eu|us|ap) ;; *) echo "CHAOS_ISOLATE must be eu, us or ap" >&2; exit 2 ;; esac

STARTED=$(date +%s%N)
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
warn() { printf '   \033[33m%s\033[0m\n' "$*"; }
die() { printf '\033[31mchaos: %s\033[0m\n' "$*" >&2; exit 1; }
now_ns() { date +%s%N; }
since() { awk -v k="$1" -v n="$(now_ns)" 'BEGIN { printf "%.2f", (n - k) / 1e9 }'; }   # seconds since $1 (ns)

# shellcheck source=deploy/demo/lib.sh
source "$ROOT/deploy/demo/lib.sh"

# ---------------------------------------------------------------------------------------------
# Results: one row per check, printed as a table at the end (and on any exit).
RESULTS=()
FAILED=0
declare -A SCENARIO_TIME=()
record() {   # record SCENARIO CHECK PASS|FAIL|SKIP|INFO DETAIL
    RESULTS+=("$1|$2|$3|$4")
    local colour=32
    [[ $3 == FAIL ]] && { colour=31; FAILED=1; }
    [[ $3 == SKIP || $3 == INFO ]] && colour=33
    printf '   \033[%sm%s\033[0m  %s: %s\n' "$colour" "$3" "$2" "$4"
}
check() {   # check SCENARIO CHECK DETAIL COMMAND...: PASS if the command succeeds
    local scenario=$1 name=$2 detail=$3; shift 3
    if "$@"; then record "$scenario" "$name" PASS "$detail"; else record "$scenario" "$name" FAIL "$detail"; fi
}
summary() {
    ((${#RESULTS[@]})) || return 0
    step "Summary ($(since "$STARTED") s)"
    printf '   %-11s %-44s %-5s %s\n' SCENARIO CHECK RESULT NUMBERS
    local row scenario name result detail
    for row in "${RESULTS[@]}"; do
        IFS='|' read -r scenario name result detail <<<"$row"
        printf '   %-11s %-44s %-5s %s\n' "$scenario" "$name" "$result" "$detail"
    done
    printf '\n   %-11s %-6s %-6s %-6s %s\n' SCENARIO RESULT PASSED FAILED SECONDS
    local s p f
    for s in "${SCENARIOS[@]}"; do
        [[ -n ${SCENARIO_TIME[$s]:-} ]] || continue
        p=$(printf '%s\n' "${RESULTS[@]}" | grep -c "^$s|.*|PASS|" || true)
        f=$(printf '%s\n' "${RESULTS[@]}" | grep -c "^$s|.*|FAIL|" || true)
        printf '   %-11s %-6s %-6s %-6s %s\n' "$s" "$( ((f)) && echo FAIL || echo PASS)" "$p" "$f" "${SCENARIO_TIME[$s]}"
    done
    local passed failed skipped
    passed=$(printf '%s\n' "${RESULTS[@]}" | grep -c '|PASS|' || true)
    failed=$(printf '%s\n' "${RESULTS[@]}" | grep -c '|FAIL|' || true)
    skipped=$(printf '%s\n' "${RESULTS[@]}" | grep -c '|SKIP|' || true)
    echo "$passed passed, $failed failed, $skipped skipped"
}

# ---------------------------------------------------------------------------------------------
step "Tools"
[[ $(id -u) == 0 ]] || die "run as root: network namespaces and iptables need it (sudo $0)"
# Installs the Debian packages of the tools that are missing; faketime is optional (without it
# the skew scenario is skipped).
declare -A PACKAGE=([ip]=iproute2 [tc]=iproute2 [iptables]=iptables [dig]=bind9-dnsutils [curl]=curl
                    [openssl]=openssl [python3]=python3 [ps]=procps [faketime]=faketime)
missing=()
for tool in "${!PACKAGE[@]}"; do
    command -v "$tool" >/dev/null || missing+=("${PACKAGE[$tool]}")
done
if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if command -v apt-get >/dev/null; then
        note "installing ${missing[*]} (apt-get)"
        apt_log=$(mktemp /tmp/glb-chaos-apt.XXXXXX)
        if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
            >"$apt_log" 2>&1; then
            rm -f "$apt_log"
        else
            warn "apt-get install failed; its output is in $apt_log"
        fi
    else
        warn "missing: ${missing[*]}, and no apt-get to install them"
    fi
fi
lab_preflight ip tc iptables dig curl openssl python3 ps
FAKETIME=$(command -v faketime || true)
note "$(ip -V | grep -o 'iproute2-[^,]*'), $(iptables -V), dig $(dig -v 2>&1 | awk '{print $2}'), faketime ${FAKETIME:-(none: the skew scenario will be skipped)}"
lab_build_glb

WORK=$(mktemp -d /tmp/glb-chaos.XXXXXX)
declare -A AGENT_PID=() ORIGIN_PID=()
SAMPLER_PID=""

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    [[ -n $SAMPLER_PID ]] && kill -TERM "$SAMPLER_PID" 2>/dev/null
    summary
    ((status > 128)) && warn "interrupted: the checks after these did not run"
    ((status == 0 && FAILED)) && status=1
    printf '\n\033[1m== cleanup\033[0m\n'
    local wrappers=() pid
    for pid in "${AGENT_PID[@]}"; do [[ -n $(lab_children "$pid") ]] && wrappers+=("$pid"); done
    lab_stop_processes
    # A faketime wrapper removes its semaphore and shared memory when its agent exits; this is
    # for one that was killed first.
    for pid in "${wrappers[@]}"; do rm -f "/dev/shm/sem.faketime_sem_$pid" "/dev/shm/faketime_shm_$pid"; done
    if ((status == 1)) && [[ -d $WORK ]]; then   # a failure, not Ctrl-C
        for r in "${REGIONS[@]}"; do
            [[ -f $WORK/$r.log ]] && { echo "--- last lines of agent $r-1's log:"; tail -n 15 "$WORK/$r.log"; }
        done
    fi
    if [[ -n ${CHAOS_LOGS:-} && -d $WORK ]]; then
        mkdir -p "$CHAOS_LOGS" && cp "$WORK"/*.log "$WORK"/samples-* "$CHAOS_LOGS"/ 2>/dev/null
        note "agent logs and samples copied to $CHAOS_LOGS"
    fi
    lab_delete_namespaces
    rm -rf "$WORK"
    note "stopped every process, deleted namespaces $PREFIX-*, removed $WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Reading the nodes.

# `glb ... --json` output on stdin (one line): the first value of each named field, space-separated,
# ? for one that is missing. A bash match, not python, which costs ten times more to start on a
# machine whose two cores the agents need.
json_fields() {
    local json k values=()
    json=$(</dev/stdin)
    for k; do
        if [[ $json =~ \"$k\":(\"[^\"]*\"|[-0-9.eE+]+|true|false|null) ]]; then values+=("${BASH_REMATCH[1]//\"/}"); else values+=("?"); fi
    done
    echo "${values[*]}"
}
# How many times `needle` occurs in `haystack`.
occurrences() { local rest=${1//"$2"/}; echo $(((${#1} - ${#rest}) / ${#2})); }
# The largest number after "key": in a JSON text, 0 if none.
max_of() {
    local rest=$1 max=0
    while [[ $rest =~ \"$2\":([0-9]+)(.*)$ ]]; do
        ((BASH_REMATCH[1] > max)) && max=${BASH_REMATCH[1]}
        rest=${BASH_REMATCH[2]}
    done
    echo "$max"
}
# PUT cluster c of www with weight w through node r's CLI; prints "WEIGHT VERSION ORIGIN".
put_weight() {
    local r=$1 c=$2 w=$3
    glb_in "$r" cluster add www "$c" --region "${REGION_NAME[$c]}" --address "${ORIGIN_IP[$c]}" --port "$ORIGIN_PORT" \
        --weight "$w" --json --admin "$ADMIN" | json_fields weight version origin
}
# Cluster c of www as node r stores it: "WEIGHT VERSION ORIGIN".
show_cluster() { glb_in "$1" cluster show www "$2" --json --admin "$ADMIN" | json_fields weight version origin; }
# The HLC rule: (version, origin) $1 $2 is newer than $3 $4.
hlc_newer() { (($1 > $3)) || { (($1 == $3)) && [[ $2 > $4 ]]; }; }
# The wall-clock part of an HLC version, in ms (the low 16 bits are the logical counter).
hlc_wall_ms() { echo $(($1 >> 16)); }

# Every node stores cluster c as "WEIGHT VERSION ORIGIN" $2; SEEN says what each one stores, and
# REACHED when each one first did (seconds since SINCE_NS, if set).
SEEN=""
declare -A REACHED=()
SINCE_NS=""
all_store() {
    local c=$1 want=$2 r got ok=0
    SEEN=""
    for r in "${REGIONS[@]}"; do
        got=$(show_cluster "$r" "$c" 2>/dev/null) || got="?"
        SEEN+="$r-1=${got%% *} "
        if [[ $got == "$want" ]]; then
            [[ -n $SINCE_NS && -z ${REACHED[$r]:-} ]] && REACHED[$r]=$(since "$SINCE_NS")
        else
            ok=1
        fi
    done
    return $ok
}
# converge SCENARIO CHECK CLUSTER "WEIGHT VERSION ORIGIN" SINCE_NS: every node stores it within
# CONVERGE_S of SINCE_NS (the heal), polled every 100 ms.
converge() {
    local scenario=$1 name=$2 c=$3 want=$4 since_ns=$5
    local deadline=$((since_ns + CONVERGE_S * 1000000000))
    REACHED=() SINCE_NS=$since_ns
    until all_store "$c" "$want"; do
        if (($(now_ns) >= deadline)); then
            record "$scenario" "$name" FAIL "not within ${CONVERGE_S}s: want weight ${want%% *} ($(describe_version "$want")); have $SEEN"
            SINCE_NS=""
            return 0
        fi
        sleep 0.1
    done
    local took r each="" late=0
    took=$(since "$since_ns")
    SINCE_NS=""
    for r in "${REGIONS[@]}"; do
        each+="${each:+ }$r-1 ${REACHED[$r]}"
        # The last poll may have begun before the deadline and seen the write after it.
        awk -v t="${REACHED[$r]}" -v max="$CONVERGE_S" 'BEGIN { exit !(t > max) }' && late=1
    done
    if ((late)); then
        record "$scenario" "$name" FAIL "weight ${want%% *} ($(describe_version "$want")) on all 3 only after $took s ($each), over ${CONVERGE_S}s"
    else
        record "$scenario" "$name" PASS "weight ${want%% *} ($(describe_version "$want")) on all 3 after $took s ($each)"
    fi
    # Gossip carries a write to every node within a second; slower means another path did.
    if awk -v t="$took" 'BEGIN { exit !(t > 2) }'; then replication_log "$since_ns"; fi
}
# The agents' replication log lines since $1 (ns; a skewed agent's clock runs up to 10 s ahead).
replication_log() {
    local from=$(($1 / 1000000 - 1000)) to=$(($(now_ns) / 1000000 + 11000)) r
    for r in "${REGIONS[@]}"; do
        awk -v from="$from" -v to="$to" -v node="$r-1" -F'"ts_ms":' '/"component":"replication"/ {
            split($2, a, ","); if (a[1] >= from && a[1] <= to) print "   " node ": " $0 }' "$WORK/$r.log"
    done
}
describe_version() { local w v o; read -r w v o <<<"$1"; echo "v$(hlc_wall_ms "$v").$((v & 0xffff)) by $o"; }
# The newer of two writes "WEIGHT VERSION ORIGIN", by the HLC rule.
newer_write() {
    local w1 v1 o1 w2 v2 o2
    read -r w1 v1 o1 <<<"$1"; read -r w2 v2 o2 <<<"$2"
    if hlc_newer "$v1" "$o1" "$v2" "$o2"; then echo "$1"; else echo "$2"; fi
}

# Every node: all members alive, every origin answered, three up votes for every cluster, and
# the same config version.
config_versions() {
    local r
    for r in "${REGIONS[@]}"; do glb_in "$r" status --json --admin "$ADMIN" | json_fields config_version; done | sort -u
}
all_back() {
    local r
    for r in "${REGIONS[@]}"; do
        members_alive "$r" || return 1
        [[ $(answers "$r") == "$ALL_ORIGINS" ]] || return 1
    done
    settled || return 1
    [[ $(config_versions | wc -l) == 1 ]]
}
# back SCENARIO SINCE_NS: everything is back to normal within RECOVER_S of the heal.
back() {
    local scenario=$1 since_ns=$2
    if poll "$RECOVER_S" all_back; then
        record "$scenario" "all back after heal" PASS "3 alive, 3 origins answered, 3/3 up votes, one config version on every node after $(since "$since_ns") s"
        return 0
    fi
    local r views=""
    for r in "${REGIONS[@]}"; do
        views+="$r-1: alive $(glb_in "$r" members --json --admin "$ADMIN" | grep -o '"status":"alive"' | wc -l), answers '$(answers "$r")'; "
    done
    record "$scenario" "all back after heal" FAIL "not within ${RECOVER_S}s: $views versions $(config_versions | tr '\n' ' ')"
    return 1
}

# Node a reaches node b's proxy port over the bridge (any HTTP answer will do).
reachable() { [[ $(in_ns "$1" curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://${NODE_IP[$2]}:8080/" || true) != 000 ]]; }
check_reachable() {   # check_reachable SCENARIO A B...: after a heal, A and the others reach each other
    local scenario=$1 a=$2 b bad=""; shift 2
    for b in "$@"; do
        reachable "$a" "$b" || bad+="$a-1->$b-1 "
        reachable "$b" "$a" || bad+="$b-1->$a-1 "
    done
    if [[ -z $bad ]]; then
        record "$scenario" "heal restores the network" PASS "$a-1 <-> $* over HTTP"
    else
        record "$scenario" "heal restores the network" FAIL "unreachable: $bad"
    fi
}

# When a heal did not bring the GLB back together, restart us-1 and ap-1, which join through
# eu-1 when they start, so that the next scenario starts from one GLB again.
repair() {
    local t; t=$(now_ns)
    warn "repairing: restarting us-1 and ap-1 (they join through eu-1 when they start)"
    restart_agent us
    restart_agent ap
    if poll "$RECOVER_S" all_back; then
        record "$1" "repaired by restarting us-1 and ap-1" INFO "all back $(since "$t") s after the restarts began; the next scenario starts from there"
        return 0
    fi
    record "$1" "repaired by restarting us-1 and ap-1" FAIL "still not back after ${RECOVER_S}s: $(members_now)"
    return 1
}

# ---------------------------------------------------------------------------------------------
# Like answers(), but comma-separated, - when empty, and with no process but dig's: a sampling
# round runs three of these and three `glb status` on two cores the agents share.
mapfile -t SORTED_REGIONS < <(printf '%s\n' "${REGIONS[@]}" | sort)
answers_fast() {
    local r=$1 raw ip o out="" extra="" known
    raw=$(in_ns "$r" dig @"${NODE_IP[$r]}" -p 5353 "www.${ZONE%.}" A +short +time=1 +tries=2 2>/dev/null) || raw=""
    local -A got=()
    for ip in $raw; do
        [[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || continue   # not ";; connection timed out"
        known=""
        for o in "${REGIONS[@]}"; do [[ $ip == "${ORIGIN_IP[$o]}" ]] && { got[$o]=1; known=1; }; done
        [[ -n $known ]] || extra+=",$ip"
    done
    for o in "${SORTED_REGIONS[@]}"; do [[ -n ${got[$o]:-} ]] && out+=",$o"; done
    out=${out#,}$extra
    echo "${out:--}"
}

# Sampling while a fault is in place: every SAMPLE_MS, for every node, its DNS answer for www and
# its `glb status --json`. One line per node and round in $WORK/samples-TAG:
#   MS_SINCE_START NODE ANSWERS(comma-separated, - if none) NOT_ANSWERED_CLUSTERS MAX_DOWN_VOTES
#   ALIVE_MEMBERS OWN_PROBES_DOWN
sampler() {
    local tag=$1 seconds=$2
    local out=$WORK/samples-$tag
    local start rounds i r a s t0 left
    start=$(now_ns)
    rounds=$((seconds * 1000 / SAMPLE_MS))
    local deadline=$((start + (seconds + 2) * 1000000000))
    : >"$out"
    for ((i = 0; i < rounds; i++)); do
        t0=$(now_ns)
        ((t0 < deadline)) || break
        for r in "${REGIONS[@]}"; do
            a=$(answers_fast "$r")
            s=$(glb_in "$r" status --json --admin "$ADMIN" 2>/dev/null) || s=""
            printf '%d %s %s %d %d %d %d\n' $(((t0 - start) / 1000000)) "$r" "$a" \
                "$(occurrences "$s" '"answered":false')" "$(max_of "$s" down_votes)" \
                "$(occurrences "$s" '"status":"alive"')" "$(occurrences "$s" '"health":"down"')" >>"$out"
        done
        left=$(((t0 + SAMPLE_MS * 1000000 - $(now_ns)) / 1000000))
        ((left > 0)) && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
    done
}
start_sampler() { sampler "$1" "$HOLD" & SAMPLER_PID=$!; }
wait_sampler() { wait "$SAMPLER_PID" || true; SAMPLER_PID=""; }
# assess SCENARIO TAG [alive]: the samples' checks; with `alive`, members must stay alive too.
assess() {
    local scenario=$1 want_alive=${3:-} file=$WORK/samples-$2
    local stats
    stats=$(awk -v all="${ALL_ORIGINS% }" '
        BEGIN { gsub(/ /, ",", all); minalive = 99 }
        { n++; rounds[$1] = 1; last = $1
          if ($3 == "-" || $3 == "") { empty++; if (!fe) fe = $2 "@" $1 "ms" }
          else if ($3 != all) { dropped++; if (!fd) fd = $2 "@" $1 "ms:" $3 }
          if ($4 > 0) { verdicts++; if (!fv) fv = $2 "@" $1 "ms" }
          if ($5 > maxdown) maxdown = $5
          if ($6 < minalive) { minalive = $6; wa = $2 "@" $1 "ms" }
          if ($7 > 0) { owndown++; od[$2]++ } }
        END { r = length(rounds); ods = ""; for (k in od) ods = ods (ods ? "," : "") k "-1:" od[k]
              printf "%d %d %.1f %d %d %d %d %d %s %s %s %s %d %s\n", n, r, (r ? last / 1000 : 0),
              empty, dropped, verdicts, maxdown, (n ? minalive : 0), (fe ? fe : "-"), (fd ? fd : "-"), (fv ? fv : "-"),
              (wa ? wa : "-"), owndown, (ods ? ods : "-") }' "$file")
    local n rounds secs empty dropped verdicts maxdown minalive fe fd fv wa owndown ods
    read -r n rounds secs empty dropped verdicts maxdown minalive fe fd fv wa owndown ods <<<"$stats"
    ((owndown == 0)) || note "a node's own probes saw a cluster down in $owndown samples ($ods); the quorum kept it answered"
    local every over
    every=$(awk -v s="$secs" -v r="$rounds" 'BEGIN { printf "%d", (r > 1 ? s * 1000 / (r - 1) : 0) }')
    over="$n answers in $rounds rounds over ${secs}s (a round every $every ms)"
    # A round is a dig and a `glb status` per node; on two busy cores it can take longer than
    # SAMPLE_MS. Fewer than a quarter of the rounds would leave gaps a flap could hide in.
    if ((rounds < HOLD * 1000 / SAMPLE_MS / 4)); then
        record "$scenario" "sampling kept pace" FAIL "only $rounds rounds in ${HOLD}s (a round every ${SAMPLE_MS}ms wanted)"
    fi
    if ((empty == 0 && n > 0)); then
        record "$scenario" "no empty DNS answer" PASS "$over: 0 empty"
    else
        record "$scenario" "no empty DNS answer" FAIL "$over: $empty empty (first $fe)"
    fi
    if ((dropped == 0 && verdicts == 0 && n > 0)); then
        record "$scenario" "no flap: every origin in every answer" PASS "$over: 0 without all 3; quorum verdicts down 0; max down votes $maxdown"
    else
        record "$scenario" "no flap: every origin in every answer" FAIL "$over: $dropped without all 3 (first $fd); status samples with a cluster not answered $verdicts (first $fv); max down votes $maxdown"
    fi
    if [[ $want_alive == alive ]]; then
        if ((minalive >= ${#REGIONS[@]})); then
            record "$scenario" "gossip members stay alive" PASS "$n status samples: every node saw 3 alive throughout"
        else
            record "$scenario" "gossip members stay alive" FAIL "a node saw only $minalive alive (first at $wa); $(members_now)"
        fi
    else
        note "members alive, fewest seen by a node while the fault held: $minalive (at $wa; not asserted here)"
    fi
}
members_now() {   # what each node's member list says, e.g. "eu-1: us-1=alive ap-1=suspect"
    local r
    for r in "${REGIONS[@]}"; do
        printf '%s-1: %s; ' "$r" "$(glb_in "$r" members --json --admin "$ADMIN" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s=%s" % (m["name"], m["status"]) for m in d.get("members", [])))')"
    done
}

# ---------------------------------------------------------------------------------------------
# The faults. iptables rules go in the namespaces' own tables, so healing is a flush there.
drop_between() {   # drop_between NS IP...: NS drops every packet to and from those addresses
    local ns=$1 ip; shift
    for ip in "$@"; do
        in_ns "$ns" iptables -A INPUT -s "$ip" -j DROP
        in_ns "$ns" iptables -A OUTPUT -d "$ip" -j DROP
    done
}
flush_rules() { local ns; for ns in "$@"; do in_ns "$ns" iptables -F; done; }

# Loss between the eu and us regions: every packet between {eu-1, eu origin} and {us-1, us
# origin}, bar the origins' own, has LOSS_PERCENT% chance of being dropped, once, on its way.
# With netem: a prio qdisc on each sender's eth0 whose third band is netem, with u32 filters for
# the far region's addresses. Without netem: iptables' statistic match in eu-1's and us-1's
# namespaces, on both chains.
LOSS_MECHANISM=""
loss_pairs() {   # SOURCE_NAMESPACE DESTINATION_IP... : which sender loses what
    echo "eu ${NODE_IP[us]} ${ORIGIN_IP[us]}"
    echo "us ${NODE_IP[eu]} ${ORIGIN_IP[eu]}"
    echo "eu-web ${NODE_IP[us]}"
    echo "us-web ${NODE_IP[eu]}"
}
netem_on() {
    local ns ip
    while read -r ns rest; do
        in_ns "$ns" tc qdisc add dev eth0 root handle 1: prio || return 1
        in_ns "$ns" tc qdisc add dev eth0 parent 1:3 handle 30: netem loss "$LOSS_PERCENT%" || return 1
        for ip in $rest; do
            in_ns "$ns" tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst "$ip/32" flowid 1:3 || return 1
        done
    done < <(loss_pairs)
}
netem_off() {
    local ns _
    while read -r ns _; do in_ns "$ns" tc qdisc del dev eth0 root 2>/dev/null || true; done < <(loss_pairs)
}
iptables_loss_on() {
    local p
    p=$(awk -v l="$LOSS_PERCENT" 'BEGIN { printf "%.2f", l / 100 }')
    local r o
    for r in eu us; do
        o=$([[ $r == eu ]] && echo us || echo eu)
        for ip in "${NODE_IP[$o]}" "${ORIGIN_IP[$o]}"; do
            in_ns "$r" iptables -A OUTPUT -d "$ip" -m statistic --mode random --probability "$p" -j DROP || return 1
            in_ns "$r" iptables -A INPUT -s "$ip" -m statistic --mode random --probability "$p" -j DROP || return 1
        done
    done
    # us-1 and the eu origin are covered on us-1's side, eu-1 and the us origin on eu-1's; the
    # origins' traffic with each other is none.
}
loss_on() {
    if [[ $LOSS_WITH != iptables ]]; then
        if netem_on 2>"$WORK/netem.err"; then LOSS_MECHANISM="tc netem"; return 0; fi
        netem_off
        if [[ $LOSS_WITH == netem ]]; then
            warn "tc netem is not available here: $(head -1 "$WORK/netem.err")"
            return 1
        fi
        warn "tc netem is not available here ($(head -1 "$WORK/netem.err"); this kernel has no sch_netem or no prio/u32),"
        warn "so the ${LOSS_PERCENT}% loss is made with iptables' statistic match instead (CHAOS_LOSS=netem to insist)"
    fi
    if iptables_loss_on 2>"$WORK/iptables.err"; then LOSS_MECHANISM="iptables statistic"; return 0; fi
    flush_rules eu us
    warn "iptables' statistic match is not available either: $(head -1 "$WORK/iptables.err")"
    return 1
}
loss_off() { netem_off; flush_rules eu us; }

# A node's agent, stopped with SIGTERM (its launcher's child first, if it has one) and waited for.
stop_agent() {
    local r=$1 pid=${AGENT_PID[$1]} child target
    target=$(lab_children "$pid")
    for child in ${target:-$pid}; do kill -TERM "$child" 2>/dev/null || true; done
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "$r-1 did not stop within 15 s of SIGTERM"
    wait "$pid" 2>/dev/null || true
}
restart_agent() {   # restart_agent REGION [LAUNCHER...]
    local r=$1; shift
    stop_agent "$r"
    lab_start_agent "$r" "$@"
    wait_until 30 "$r-1 to be ready again" lab_ready "$r"
}

# ---------------------------------------------------------------------------------------------
step "Three regions in namespaces $PREFIX-* on $NET.0/24"
lab_network
for r in "${REGIONS[@]}"; do lab_start_origin "$r"; done
lab_gossip_key
for r in "${REGIONS[@]}"; do lab_start_agent "$r"; done
for r in "${REGIONS[@]}"; do wait_until 30 "agent $r-1 to be ready" lab_ready "$r"; done
for r in "${REGIONS[@]}"; do wait_until 30 "$r-1 to see three live members" members_alive "$r"; done
in_ns eu curl -fsS -X PUT "$ADMIN/v1/services/www" -o /dev/null \
    -d '{"zone":"glb.example.","policy":"all","ttl":5,"check":{"type":"http","path":"/healthz","interval_ms":1000,"fall":2,"rise":2}}'
for r in "${REGIONS[@]}"; do put_weight eu "$r" 100 >/dev/null; done
wait_until "$RECOVER_S" "every node to answer every origin with three up votes and one config version" all_back
note "agents eu-1 us-1 ap-1 joined, service www with clusters eu us ap (policy all, check every 1 s,"
note "fall 2, rise 2), every node answering all three with 3/3 up votes after $(since "$STARTED") s"
BASE_VERSION=$(config_versions)

# ---------------------------------------------------------------------------------------------
scenario_partition() {
    local S=partition
    # x: the node cut off; y and z: the other two, y the one written on; the row both sides
    # write is z's cluster, and x and y each also write their own.
    local x=$ISOLATE y z o
    for o in "${REGIONS[@]}"; do [[ $o == "$x" ]] || { [[ -z ${y:-} ]] && y=$o || z=$o; }; done
    step "Scenario partition: $x-1 cut off from $y-1 and $z-1 for ${HOLD}s"
    note "iptables DROP in $PREFIX-$x to and from ${NODE_IP[$y]} and ${NODE_IP[$z]}; the origins stay reachable from every node"
    drop_between "$x" "${NODE_IP[$y]}" "${NODE_IP[$z]}"
    local cut; cut=$(now_ns)
    start_sampler $S
    sleep 2
    # The same row written on each side, the majority side first, and one row of its own on each.
    local w_y w_x own_y own_x
    w_y=$(put_weight "$y" "$z" 201); own_y=$(put_weight "$y" "$y" 202)
    sleep 1
    w_x=$(put_weight "$x" "$z" 101); own_x=$(put_weight "$x" "$x" 102)
    note "written during the partition: on $y-1 $z=$(describe_version "$w_y"), $y=202; on $x-1 $z=$(describe_version "$w_x"), $x=102"
    wait_sampler
    assess $S $S
    local x_view y_view
    x_view=$(show_cluster "$x" "$z"); y_view=$(show_cluster "$y" "$z")
    check $S "partition held (writes did not cross)" "after $(since "$cut") s $x-1 has $z=${x_view%% *}, $y-1 has $z=${y_view%% *}; $(members_now)" \
        test "${x_view%% *}" = 101 -a "${y_view%% *}" = 201
    flush_rules "$x"
    local healed; healed=$(now_ns)
    note "healed (iptables -F in $PREFIX-$x)"
    check_reachable $S "$x" "$y" "$z"
    converge $S "conflicting write converges (HLC)" "$z" "$(newer_write "$w_y" "$w_x")" "$healed"
    converge $S "$x-1's own write reaches all" "$x" "$own_x" "$healed"
    converge $S "$y-1's own write reaches all" "$y" "$own_y" "$healed"
    back $S "$healed" || true   # the main loop repairs the GLB if it is not back
}

scenario_asymmetric() {
    local S=asymmetric
    step "Scenario asymmetric: ap-1 hears us-1, us-1 does not hear ap-1, for ${HOLD}s"
    note "iptables -A INPUT -s ${NODE_IP[ap]} -j DROP in $PREFIX-us only: us-1's packets reach ap-1, ap-1's never reach us-1"
    in_ns us iptables -A INPUT -s "${NODE_IP[ap]}" -j DROP
    start_sampler $S
    sleep 2
    local w_ap w_us own_ap own_us
    w_ap=$(put_weight ap us 301); own_ap=$(put_weight ap ap 302)
    sleep 1
    w_us=$(put_weight us us 401); own_us=$(put_weight us eu 402)
    note "written during the fault: on ap-1 us=$(describe_version "$w_ap"), ap=302; on us-1 us=$(describe_version "$w_us"), eu=402"
    wait_sampler
    assess $S $S
    note "members at the end of the fault: $(members_now)"
    flush_rules us
    local healed; healed=$(now_ns)
    note "healed (iptables -F in $PREFIX-us)"
    check_reachable $S us ap
    converge $S "conflicting write converges (HLC)" us "$(newer_write "$w_ap" "$w_us")" "$healed"
    converge $S "ap-1's own write reaches all" ap "$own_ap" "$healed"
    converge $S "us-1's own write reaches all" eu "$own_us" "$healed"
    back $S "$healed" || true   # the main loop repairs the GLB if it is not back
}

scenario_loss() {
    local S=loss
    step "Scenario loss: ${LOSS_PERCENT}% packet loss between the eu and us regions for ${HOLD}s"
    if ! loss_on; then
        record $S "${LOSS_PERCENT}% loss" SKIP "neither tc netem nor iptables' statistic match works on this kernel"
        return 0
    fi
    note "$LOSS_MECHANISM: eu-1 <-> us-1, eu-1 <-> us origin, us-1 <-> eu origin"
    start_sampler $S
    sleep 2
    local w_eu w_us own_eu own_us
    w_eu=$(put_weight eu ap 501); own_eu=$(put_weight eu eu 502)
    sleep 1
    w_us=$(put_weight us ap 511); own_us=$(put_weight us us 512)
    wait_sampler
    assess $S $S alive
    note "members at the end of the fault: $(members_now)"
    loss_off
    local healed; healed=$(now_ns)
    note "healed (loss removed)"
    converge $S "conflicting write converges (HLC)" ap "$(newer_write "$w_eu" "$w_us")" "$healed"
    converge $S "eu-1's own write reaches all" eu "$own_eu" "$healed"
    converge $S "us-1's own write reaches all" us "$own_us" "$healed"
    back $S "$healed" || true   # the main loop repairs the GLB if it is not back
}

scenario_skew() {
    local S=skew
    step "Scenario skew: ap-1's wall clock ${SKEW#+} ahead for ${HOLD}s"
    if [[ -z $FAKETIME ]]; then
        record $S "clock ${SKEW#+} ahead" SKIP "faketime is not installed (apt-get install faketime)"
        return 0
    fi
    # The agent reads the wall clock straight from clock_gettime (GLBClock has no offset to
    # set), so the skew comes from libfaketime. Through the faketime wrapper, not LD_PRELOAD
    # alone: the library's constructor then finds FAKETIME_SHARED set and leaves the environment
    # alone; when it has to setenv() it, environ moves off the stack and the Swift runtime,
    # which finds argv just below environ, sees no arguments. The monotonic clock gets the same
    # constant offset, which no interval notices; FAKETIME_DONT_FAKE_MONOTONIC=1 would keep it
    # true but leaves the idle agent busy on half a core (measured: 2.3 to 3.1 s of CPU in 5 s,
    # against none), enough to starve the sampling on two shared cores.
    note "restarting ap-1 as: ip netns exec $PREFIX-ap faketime -f $SKEW glb agent ..."
    restart_agent ap "$FAKETIME" -f "$SKEW"
    local restarted; restarted=$(now_ns)
    if poll "$RECOVER_S" all_back; then
        record $S "skewed node rejoins and counts as observer" PASS "3 alive, 3/3 up votes on every node $(since "$restarted") s after the restart"
    else
        record $S "skewed node rejoins and counts as observer" FAIL "not within ${RECOVER_S}s: $(members_now)"
    fi
    # The skew is real: a write on ap-1 carries a version from 10 s ahead.
    local w1 skew_ms host_ms
    host_ms=$(($(now_ns) / 1000000))
    w1=$(put_weight ap eu 601)
    skew_ms=$(($(hlc_wall_ms "$(echo "$w1" | cut -d' ' -f2)") - host_ms))
    if ((skew_ms < 8000 || skew_ms > 13000)); then
        record $S "clock ${SKEW#+} ahead" FAIL "ap-1's write is versioned ${skew_ms} ms from the host's clock; faketime had no effect"
        restart_agent ap
        back $S "$(now_ns)" || true
        return 0
    fi
    record $S "clock ${SKEW#+} ahead" PASS "ap-1's write is versioned $((skew_ms / 1000)).$(printf '%03d' $((skew_ms % 1000))) s ahead of the host's clock"
    start_sampler $S
    local t
    t=$(now_ns)
    if poll "$CONVERGE_S" all_store eu "$w1"; then
        note "ap-1's write (weight 601) on every node after $(since "$t") s"
    else
        record $S "ap-1's write reaches all" FAIL "not within ${CONVERGE_S}s: $SEEN"
    fi
    # Causally later: us-1 writes the same row after it has applied ap-1's future-dated write,
    # so its clock has moved past it and its write must win, though its wall clock is behind.
    local w2 v1 o1 v2 o2
    t=$(now_ns)
    w2=$(put_weight us eu 602)
    read -r _ v1 o1 <<<"$w1"; read -r _ v2 o2 <<<"$w2"
    check $S "later write on us-1 gets a newer version" "us-1's $(describe_version "$w2") vs ap-1's $(describe_version "$w1")" \
        hlc_newer "$v2" "$o2" "$v1" "$o1"
    converge $S "later write on us-1 wins everywhere" eu "$w2" "$t"
    # Concurrent: ap-1 and eu-1 write the same row at once; the higher (version, origin) wins.
    local f_ap=$WORK/skew-ap f_eu=$WORK/skew-eu pa pe
    put_weight ap ap 611 >"$f_ap" & pa=$!
    put_weight eu ap 612 >"$f_eu" & pe=$!
    wait "$pa"; wait "$pe"
    t=$(now_ns)
    local c_ap c_eu
    c_ap=$(<"$f_ap"); c_eu=$(<"$f_eu")
    note "concurrent writes of cluster ap: ap-1 $(describe_version "$c_ap"), eu-1 $(describe_version "$c_eu")"
    converge $S "concurrent writes converge (HLC)" ap "$(newer_write "$c_ap" "$c_eu")" "$t"
    wait_sampler
    assess $S $S alive
    note "healing: restarting ap-1 on the true clock (10 s behind the versions it wrote)"
    restart_agent ap
    local healed; healed=$(now_ns)
    back $S "$healed" || return 0
    # Its clock stepped back 10 s, but the store's clock starts past the newest version it
    # holds: a new write on ap-1 must still beat its own future-dated ones.
    local w3 v3 o3 newest
    t=$(now_ns)
    w3=$(put_weight ap eu 621)
    newest=$(newer_write "$(newer_write "$w2" "$c_ap")" "$c_eu")
    read -r _ v3 o3 <<<"$w3"; read -r _ v1 o1 <<<"$newest"
    check $S "write after the clock steps back is newest" "ap-1's $(describe_version "$w3") vs newest before $(describe_version "$newest")" \
        hlc_newer "$v3" "$o3" "$v1" "$o1"
    converge $S "write after the clock steps back wins" eu "$w3" "$t"
}

note "scenarios: ${SCENARIOS[*]}; each fault held ${HOLD}s, sampled every ${SAMPLE_MS} ms"
for scenario in "${SCENARIOS[@]}"; do
    began=$(now_ns)
    "scenario_$scenario"
    SCENARIO_TIME[$scenario]=$(since "$began")
    # A scenario that did not get back to normal would spoil the next one's numbers.
    if ! poll 1 all_back && ! repair "$scenario"; then
        warn "the GLB is not back to normal after $scenario; the remaining scenarios are not run"
        break
    fi
done
note "config version at the start: $BASE_VERSION; at the end: $(config_versions | tr '\n' ' ')"
exit $((FAILED ? 1 : 0))
