#!/usr/bin/env bash
# Three GLB regions on one machine: each region's agent and each region's origin in its own
# network namespace, all on one virtual LAN. Shows gossip joining, a REST write on one node served
# by all, a failover (an origin killed, gone from every node's DNS answers within seconds, then
# back), a canary shift made from the CLI on another node, and proxy mode.
#
#   sudo deploy/demo/three-regions.sh          (or: sudo make demo)
#   sudo deploy/demo/three-regions.sh --keep   then leaves the regions running until Ctrl-C, to explore
#
# Needs: root (network namespaces), iproute2, dig, curl, openssl, python3; Swift to build
# .build/release/glb if it is missing (GLB=/path/to/glb uses another binary). Touches nothing
# outside its namespaces and a temporary directory, and removes them on exit, Ctrl-C included.
# The namespaces, origins and agents are set up by deploy/demo/lib.sh, which scripts/chaos.sh
# shares.
#
#   namespace glbdemo-lan     bridge glbdemo0: the "internet" between the regions
#   namespace glbdemo-eu      agent eu-1 (region eu-west)   10.77.0.11  DNS :5353  proxy :8080
#   namespace glbdemo-us      agent us-1 (region us-east)   10.77.0.12  gossip :7946 (UDP+TCP)
#   namespace glbdemo-ap      agent ap-1 (region ap-south)  10.77.0.13  admin 127.0.0.1:9090
#   namespace glbdemo-eu-web  origin "eu" (python3 http.server)  10.77.0.21:8000
#   namespace glbdemo-us-web  origin "us"                        10.77.0.22:8000
#   namespace glbdemo-ap-web  origin "ap"                        10.77.0.23:8000
#
# The bridge lives in a namespace of its own, so the host's interfaces, routes and firewall are
# left alone (and cannot drop the demo's packets).
set -euo pipefail

KEEP=0
case ${1:-} in
    --keep) KEEP=1 ;;
    "") ;;
    *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GLB=${GLB:-$ROOT/.build/release/glb}
PREFIX=glbdemo
BRIDGE=glbdemo0
VETH=gd-
NET=10.77.0
REGIONS=(eu us ap)
declare -A REGION_NAME=([eu]=eu-west [us]=us-east [ap]=ap-south)
declare -A NODE_IP=([eu]=$NET.11 [us]=$NET.12 [ap]=$NET.13)
declare -A ORIGIN_IP=([eu]=$NET.21 [us]=$NET.22 [ap]=$NET.23)
ORIGIN_PORT=8000
ZONE=glb.example.
STEP=0
STARTED=$(date +%s.%N)

step() {
    STEP=$((STEP + 1))
    printf '\n\033[1m== %d. %s\033[0m\n' "$STEP" "$*"
}
note() { printf '   %s\n' "$*"; }
# Seconds since the demo started, for the transcript.
elapsed() { awk -v s="$STARTED" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }
die() { printf '\033[31mdemo failed: %s\033[0m\n' "$*" >&2; exit 1; }

# shellcheck source=deploy/demo/lib.sh
source "$ROOT/deploy/demo/lib.sh"
lab_preflight ip dig curl openssl python3

WORK=$(mktemp -d /tmp/glb-demo.XXXXXX)
declare -A AGENT_PID=() ORIGIN_PID=()

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    printf '\n\033[1m== cleanup\033[0m\n'
    lab_stop_processes
    if ((status == 1)) && [[ -d $WORK ]]; then   # a failure, not Ctrl-C
        for r in "${REGIONS[@]}"; do
            [[ -f $WORK/$r.log ]] && { echo "--- last lines of agent $r-1's log ($WORK/$r.log):"; tail -n 15 "$WORK/$r.log"; }
        done
    fi
    lab_delete_namespaces
    rm -rf "$WORK"
    note "stopped every process, deleted namespaces $PREFIX-*, removed $WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_answers() {
    for r in "${REGIONS[@]}"; do
        printf '   from %-3s  dig @%s -p 5353 www.glb.example A  ->  %s\n' "$r" "${NODE_IP[$r]}" "$(answers "$r")"
    done
}

# ---------------------------------------------------------------------------------------------
step "Build the agent"
lab_build_glb

# ---------------------------------------------------------------------------------------------
step "Network: a bridge and seven namespaces on $NET.0/24"
lab_network

# ---------------------------------------------------------------------------------------------
step "Origins: one web server per region, answering / and /healthz with its region"
for r in "${REGIONS[@]}"; do
    lab_start_origin "$r"
    note "$r: http://${ORIGIN_IP[$r]}:$ORIGIN_PORT/  ->  $(in_ns "$r-web" curl -fsS "http://${ORIGIN_IP[$r]}:$ORIGIN_PORT/")"
done

# ---------------------------------------------------------------------------------------------
step "Agents: one per region, gossiping with one shared key"
lab_gossip_key
note "gossip key: openssl rand -base64 32 > $WORK/gossip.key"
for r in "${REGIONS[@]}"; do
    lab_agent_args "$r"
    note "ip netns exec $PREFIX-$r glb ${AGENT_ARGS[*]}"
    lab_start_agent "$r"
done
for r in "${REGIONS[@]}"; do
    wait_until 30 "agent $r-1 to be ready" lab_ready "$r"
done
for r in "${REGIONS[@]}"; do wait_until 30 "$r-1 to see three live members" members_alive "$r"; done
note "all three ready and joined after $(elapsed)s; as ap-1 sees them:"
note "\$ ip netns exec $PREFIX-ap glb members"
glb_in ap members | sed 's/^/   /'

# ---------------------------------------------------------------------------------------------
step "Register service www and three clusters through eu-1's admin API only"
admin_put() {   # admin_put PATH JSON: on eu-1, inside its namespace
    printf '   $ curl -X PUT 127.0.0.1:9090%s -d %s\n' "$1" "'$2'"
    printf '     '
    in_ns eu curl -sS -X PUT "127.0.0.1:9090$1" -d "$2" -o /dev/null -w '%{http_code}\n'
}
admin_put /v1/services/www '{"zone":"glb.example.","policy":"all","ttl":5,"check":{"type":"http","path":"/healthz","interval_ms":1000,"fall":2,"rise":2}}'
for r in "${REGIONS[@]}"; do
    admin_put "/v1/services/www/clusters/$r" "{\"region\":\"${REGION_NAME[$r]}\",\"address\":\"${ORIGIN_IP[$r]}\",\"port\":$ORIGIN_PORT,\"weight\":100}"
done

registered=$(date +%s%N)
all_answer_everything() { for r in "${REGIONS[@]}"; do [[ $(answers "$r") == "ap eu us " ]] || return 1; done; }
if ! poll 15 all_answer_everything; then
    # What each node answers against what its store holds: a cluster in the store but not in
    # the answers is a node serving a stale routing snapshot.
    show_answers
    for r in "${REGIONS[@]}"; do note "$r-1's glb status:"; glb_in "$r" status | sed 's/^/     /'; done
    die "timed out after 15s waiting for every node to answer with all three origins"
fi
step "dig in every region: the writes on eu-1 are served by all three nodes"
note "every node answered with all three clusters $(awk -v k="$registered" -v n="$(date +%s%N)" 'BEGIN { printf "%.2f", (n - k) / 1e9 }') s after the last PUT"
note "\$ ip netns exec $PREFIX-us dig @${NODE_IP[us]} -p 5353 www.glb.example A +noall +answer"
in_ns us dig @"${NODE_IP[us]}" -p 5353 www.glb.example A +noall +answer | sed 's/^/   /'
note "policy \"all\": every healthy cluster's address; below, origins are shown by region"
show_answers
note "\$ ip netns exec $PREFIX-ap curl -H 'Host: www.glb.example' ${NODE_IP[ap]}:8080/     (ap-1's proxy)"
note "$(in_ns ap curl -fsS -H 'Host: www.glb.example' "${NODE_IP[ap]}:8080/")"

# ---------------------------------------------------------------------------------------------
step "Failover: kill the eu origin (kill -9)"
wait_until 20 "every node to count three up votes for every origin" settled
note "every node has seen all three origins up, with three votes each ($(elapsed)s)"
kill -KILL "${ORIGIN_PID[eu]}"
wait "${ORIGIN_PID[eu]}" 2>/dev/null || true
unset 'ORIGIN_PID[eu]'
killed=$(date +%s%N)
note "killed at $(elapsed)s; check: interval 1000 ms x fall 2, then a majority of the three observers"
declare -A GONE=()
deadline=$((killed + 20000000000))
while ((${#GONE[@]} < 3)); do
    (($(date +%s%N) < deadline)) || die "eu still answered after 20 s by: $(for r in "${REGIONS[@]}"; do [[ -z ${GONE[$r]:-} ]] && echo -n "$r-1 "; done)"
    for r in "${REGIONS[@]}"; do
        if [[ -z ${GONE[$r]:-} ]] && answers_lack "$r" eu; then
            GONE[$r]=$(awk -v k="$killed" -v n="$(date +%s%N)" 'BEGIN { printf "%.2f", (n - k) / 1e9 }')
        fi
    done
    sleep 0.1
done
for r in "${REGIONS[@]}"; do note "$r-1 stopped answering eu ${GONE[$r]} s after the kill"; done
show_answers
note "\$ ip netns exec $PREFIX-us glb status      (us-1's view: own probes and the quorum votes)"
glb_in us status | sed 's/^/   /'
note "the proxy steers around it too: $(in_ns ap curl -fsS -H 'Host: www.glb.example' "${NODE_IP[ap]}:8080/")"

step "Bring the eu origin back"
lab_start_origin eu
back=$(date +%s%N)
all_have_eu() { for r in "${REGIONS[@]}"; do answers_contain "$r" eu || return 1; done; }
wait_until 20 "every node to answer eu again" all_have_eu
note "eu answered by every node again $(awk -v k="$back" -v n="$(date +%s%N)" 'BEGIN { printf "%.2f", (n - k) / 1e9 }') s after restart (rise 2)"
show_answers
wait_until 20 "every node to count three up votes for every origin" settled

# ---------------------------------------------------------------------------------------------
step "Canary: 10% of clients to us, set from the CLI on us-1"
note "\$ ip netns exec $PREFIX-us glb canary set www --cluster us --percent 10"
# The config version each node serves (its own /v1/status), one a line.
served_versions() {
    for r in "${REGIONS[@]}"; do
        glb_in "$r" status --json | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["config_version"])'
    done
}
before=$(served_versions | sort -u)
written=$(date +%s%N)
glb_in us canary set www --cluster us --percent 10 | sed 's/^/   /'
converged() {
    local v; v=$(served_versions | sort -u)
    [[ $v != *$'\n'* && $v != "$before" ]] || return 1
    echo "$v" >"$WORK/converged"
    date +%s%N >>"$WORK/converged"
}
wait_until 10 "every node to serve the canary write" converged
{ read -r version; read -r at; } <"$WORK/converged"
note "every node serves config version $version $(awk -v k="$written" -v n="$at" 'BEGIN { printf "%.2f", (n - k) / 1e9 }') s after the write on us-1"
note "\$ ip netns exec $PREFIX-ap glb status"
glb_in ap status | sed 's/^/   /'

# Clients are told apart by the EDNS Client Subnet: 100 client /24s ask every node.
note "100 clients (EDNS Client Subnet 198.18.N.0/24) ask every node; the split is sticky per client:"
declare -A CANARY_SET=()
for r in "${REGIONS[@]}"; do
    canary=0 baseline=0 other=0 list=""
    for n in $(seq 0 99); do
        got=$(answers "$r" www.glb.example "+subnet=198.18.$n.0/24")
        case $got in
            "us ") canary=$((canary + 1)); list+="$n " ;;
            "ap eu ") baseline=$((baseline + 1)) ;;
            *) other=$((other + 1)) ;;
        esac
    done
    CANARY_SET[$r]=$list
    note "$(printf '%s-1: %3d clients get the canary (us only), %3d the baseline (eu ap), %d other' "$r" "$canary" "$baseline" "$other")"
done
if [[ ${CANARY_SET[eu]} == "${CANARY_SET[us]}" && ${CANARY_SET[us]} == "${CANARY_SET[ap]}" ]]; then
    note "every node puts the same clients on the canary side: ${CANARY_SET[eu]:-none}"
else
    note "WARNING: the nodes disagree on which clients are canaries:"
    for r in "${REGIONS[@]}"; do note "  $r-1: ${CANARY_SET[$r]}"; done
fi

note "\$ ip netns exec $PREFIX-eu glb canary abort www"
glb_in eu canary abort www | sed 's/^/   /'

# ---------------------------------------------------------------------------------------------
step "Proxy mode: service edge is answered with the GLB nodes themselves"
in_ns eu curl -fsS -X PUT 127.0.0.1:9090/v1/services/edge -o /dev/null \
    -d '{"zone":"glb.example.","policy":"all","mode":"proxy","ttl":5,"check":{"type":"http","path":"/healthz","interval_ms":1000,"fall":2,"rise":2}}'
in_ns eu curl -fsS -X PUT 127.0.0.1:9090/v1/services/edge/clusters/us -o /dev/null \
    -d "{\"region\":\"us-east\",\"address\":\"${ORIGIN_IP[us]}\",\"port\":$ORIGIN_PORT,\"weight\":100}"
note "PUT /v1/services/edge {\"mode\":\"proxy\",...} and one cluster (us) on eu-1"
edge_nodes() { [[ $(answers "$1" edge.glb.example) == "node-ap node-eu node-us " ]]; }
for r in "${REGIONS[@]}"; do wait_until 10 "$r-1 to answer edge with the nodes" edge_nodes "$r"; done
for r in "${REGIONS[@]}"; do
    printf '   from %-3s  dig edge.glb.example  ->  %s\n' "$r" "$(answers "$r" edge.glb.example)"
done
note "\$ ip netns exec $PREFIX-eu curl -H 'Host: edge.glb.example' ${NODE_IP[eu]}:8080/"
note "$(in_ns eu curl -fsS -H 'Host: edge.glb.example' "${NODE_IP[eu]}:8080/")"

step "Done in $(elapsed)s"
if ((KEEP)); then
    note "the regions keep running; try, for example:"
    note "  ip netns exec $PREFIX-us $GLB members"
    note "  ip netns exec $PREFIX-ap $GLB status"
    note "  ip netns exec $PREFIX-eu dig @${NODE_IP[eu]} -p 5353 www.glb.example A"
    note "agent logs: $WORK/{eu,us,ap}.log. Ctrl-C stops everything and cleans up."
    while true; do sleep 1; done
fi
