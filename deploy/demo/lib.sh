# shellcheck shell=bash
# Three GLB regions on one machine, shared by deploy/demo/three-regions.sh and scripts/chaos.sh:
# each region's agent and each region's origin in a network namespace of its own, all on one
# bridge that lives in a namespace too, so the host's interfaces, routes and firewall are left
# alone (and cannot drop the regions' packets).
#
# Sourced, not run. The caller defines `note MESSAGE` and `die MESSAGE`, and sets:
#   ROOT, GLB, WORK   the repository, the agent binary, a temporary directory
#   PREFIX            namespaces are $PREFIX-lan (the bridge), $PREFIX-<r> and $PREFIX-<r>-web
#   BRIDGE            the bridge's name inside $PREFIX-lan
#   VETH              the bridge-side veth names are $VETH<namespace suffix> (15 characters at most)
#   NET               the /24 the regions live on, as its first three octets
#   REGIONS           region keys (eu us ap); REGION_NAME, NODE_IP and ORIGIN_IP map them
#   ORIGIN_PORT, ZONE
# and declares AGENT_PID and ORIGIN_PID as associative arrays (region -> PID).

in_ns() { local ns=$1; shift; ip netns exec "$PREFIX-$ns" "$@"; }
glb_in() { local r=$1; shift; in_ns "$r" "$GLB" "$@"; }

# Polls `command` every 0.1 s until it succeeds (0) or `seconds` pass (1).
poll() {
    local seconds=$1; shift
    local deadline=$(($(date +%s%N) + seconds * 1000000000))
    until "$@" >/dev/null 2>&1; do
        (($(date +%s%N) < deadline)) || return 1
        sleep 0.1
    done
}
wait_until() {
    local seconds=$1 what=$2; shift 2
    poll "$seconds" "$@" || die "timed out after ${seconds}s waiting for $what"
}

# Root, the tools, no namespaces left over from an earlier run; sets PYTHON to the real
# interpreter, not a pyenv or asdf shim, so a PID kept for an origin is the server's.
lab_preflight() {
    [[ $(id -u) == 0 ]] || die "run as root: network namespaces need it (sudo $0)"
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool is missing (apt-get install iproute2 bind9-dnsutils curl openssl python3)"
    done
    PYTHON=$(python3 -c 'import sys; print(sys.executable)')
    if ip netns list | grep -q "^$PREFIX-"; then
        die "namespaces $PREFIX-* exist already (another run going on, or one killed with -9): ip netns list"
    fi
}

# Builds $GLB (the default .build/release/glb) when it is missing.
lab_build_glb() {
    if [[ -x $GLB ]]; then
        note "using $GLB ($("$GLB" version))"
    else
        note "$GLB is missing: swift build -c release --product glb"
        (cd "$ROOT" && swift build -c release --product glb)
        [[ -x $GLB ]] || die "the build did not produce $GLB"
    fi
}

# The bridge in $PREFIX-lan, and a namespace with a veth on it for every agent and origin.
lab_network() {
    ip netns add "$PREFIX-lan"
    in_ns lan ip link add "$BRIDGE" type bridge
    in_ns lan ip link set "$BRIDGE" up
    in_ns lan ip link set lo up
    local r
    for r in "${REGIONS[@]}"; do lab_attach "$r" "${NODE_IP[$r]}"; done
    for r in "${REGIONS[@]}"; do lab_attach "$r-web" "${ORIGIN_IP[$r]}"; done
}
lab_attach() {   # lab_attach NAMESPACE IP: a veth pair from the namespace to the bridge
    local ns=$1 ip=$2
    ip netns add "$PREFIX-$ns"
    ip link add "$VETH$ns" type veth peer name eth0 netns "$PREFIX-$ns"
    ip link set "$VETH$ns" netns "$PREFIX-lan"
    in_ns lan ip link set "$VETH$ns" master "$BRIDGE" up
    in_ns "$ns" ip addr add "$ip/24" dev eth0
    in_ns "$ns" ip link set eth0 up
    in_ns "$ns" ip link set lo up
    note "$(printf '%-18s eth0 %s' "$PREFIX-$ns" "$ip")"
}

# Region r's origin: python3's http.server answering / and /healthz with its region.
lab_start_origin() {
    local r=$1
    mkdir -p "$WORK/www-$r"
    echo "ok" >"$WORK/www-$r/healthz"
    echo "hello from the $r origin (${REGION_NAME[$r]})" >"$WORK/www-$r/index.html"
    # Not through in_ns: a function in the background is a subshell, and $! would be its PID.
    # `ip netns exec` execs the command itself, so $! is the server's PID.
    ip netns exec "$PREFIX-$r-web" "$PYTHON" -m http.server "$ORIGIN_PORT" --bind "${ORIGIN_IP[$r]}" \
        --directory "$WORK/www-$r" >>"$WORK/origin-$r.log" 2>&1 &
    ORIGIN_PID[$r]=$!
    wait_until 10 "origin $r" in_ns "$r-web" curl -fsS "http://${ORIGIN_IP[$r]}:$ORIGIN_PORT/healthz"
}

# The flags of region r's agent: DNS :5353, proxy :8080, admin 127.0.0.1:9090 (in its namespace),
# gossip on its address with the shared key, joining through eu's. Sets AGENT_ARGS.
lab_agent_args() {
    local r=$1
    AGENT_ARGS=(agent --node "$r-1" --region "${REGION_NAME[$r]}" --data "$WORK/data-$r" --zone "$ZONE"
                --dns ":5353" --http ":8080" --admin 127.0.0.1:9090 --loops 1
                --gossip "${NODE_IP[$r]}:7946" --gossip-key-file "$WORK/gossip.key")
    [[ $r != "${REGIONS[0]}" ]] && AGENT_ARGS+=(--join "${NODE_IP[${REGIONS[0]}]}:7946")
    return 0
}
# Starts region r's agent (its log appended to $WORK/r.log); any words after r are a launcher
# the agent runs under (such as `faketime -f +10s`), whose PID is then the one kept.
lab_start_agent() {
    local r=$1; shift
    lab_agent_args "$r"
    ip netns exec "$PREFIX-$r" "$@" "$GLB" "${AGENT_ARGS[@]}" >>"$WORK/$r.log" 2>&1 &
    AGENT_PID[$r]=$!
}
lab_gossip_key() {
    openssl rand -base64 32 >"$WORK/gossip.key"
    chmod 600 "$WORK/gossip.key"
}
lab_ready() { in_ns "$1" curl -fsS http://127.0.0.1:9090/readyz; }
# Node r sees at least n members alive (itself included); n defaults to every region.
members_alive() { [[ $(glb_in "$1" members --json --admin 127.0.0.1:9090 | grep -o '"status":"alive"' | wc -l) -ge ${2:-${#REGIONS[@]}} ]]; }

# The A records node r answers for `name`, as origin region names (eu us ap) or node-<r> for
# the agents themselves, sorted, space-separated with a trailing space; empty if none (or if
# the node did not answer).
answers() {
    local r=$1 name=${2:-www.${ZONE%.}} extra=${3:-}
    # shellcheck disable=SC2086
    in_ns "$r" dig @"${NODE_IP[$r]}" -p 5353 "$name" A +short +time=1 +tries=2 $extra | while read -r ip; do
        [[ $ip =~ ^[0-9.]+$ ]] || continue   # not ";; connection timed out"
        local label=$ip o
        for o in "${REGIONS[@]}"; do [[ $ip == "${ORIGIN_IP[$o]}" ]] && label=$o; done
        for o in "${REGIONS[@]}"; do [[ $ip == "${NODE_IP[$o]}" ]] && label="node-$o"; done
        echo "$label"
    done | sort | tr '\n' ' '
}
answers_contain() { [[ " $(answers "$1") " == *" $2 "* ]]; }
answers_lack() { ! answers_contain "$1" "$2" && [[ -n $(answers "$1") ]]; }

# Every node has probed every cluster of service www and counts an up vote from every node for
# each (its own and its peers' gossiped observations).
settled() {
    local r
    for r in "${REGIONS[@]}"; do
        glb_in "$r" status --json --admin 127.0.0.1:9090 | "$PYTHON" -c '
import json, sys
want = int(sys.argv[1])
status = json.load(sys.stdin)
www = [c for s in status["services"] if s["name"] == "www" for c in s["clusters"]]
ok = len(www) == want and all(c.get("health") == "up" and int(c["quorum"]["up_votes"]) == want for c in www)
sys.exit(0 if ok else 1)' "${#REGIONS[@]}" || return 1
    done
}

# The PIDs of pid's children (a launcher's agent).
lab_children() { { ps -o pid= --ppid "$1" 2>/dev/null || true; } | tr -d ' '; }
# SIGTERM to every agent and origin (to the agent, not its launcher, when it runs under one: the
# launcher then exits by itself and cleans up after it), so the agents say goodbye and close
# their stores; SIGKILL to whatever is left after 5 s.
lab_stop_processes() {
    local pids=() pid children
    for pid in "${AGENT_PID[@]}" "${ORIGIN_PID[@]}"; do
        children=$(lab_children "$pid")
        # shellcheck disable=SC2086
        kill -TERM ${children:-$pid} 2>/dev/null || true
        # shellcheck disable=SC2206
        pids+=($children "$pid")
    done
    ((${#pids[@]})) || return 0
    for _ in $(seq 50); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
# Anything still running in the namespaces was started by this run: stop it too, or it would
# outlive its network. Deleting a namespace deletes its veth ends (and its firewall rules and
# queueing disciplines); $PREFIX-lan takes the bridge with it.
lab_delete_namespaces() {
    local ns pid
    for ns in lan "${REGIONS[@]}" "${REGIONS[@]/%/-web}"; do
        for pid in $(ip netns pids "$PREFIX-$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns delete "$PREFIX-$ns" 2>/dev/null || true
    done
}
