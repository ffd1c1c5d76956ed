# shellcheck shell=bash
# scripts/bench/lib/dns-servers.sh -- zone data and server launchers shared by
# scripts/bench/dns.sh and bench/failover.sh.  Source after lib/common.sh.
#
# Zone glb.example. (served on DNS_LISTEN, default 127.0.0.1:15353):
#   SOA, NS ns1, ns1 A 127.0.0.1
#   www  A  127.0.1.1 127.0.1.2 127.0.1.3   (gdnsd: multifo, health-checked;
#                                            knot: static RRset)
#   w    A  weighted 3:1:1 over the same three addresses, one per answer
#                                           (gdnsd: weighted plugin, health-
#                                            checked; knot: static RRset)
#   s    A     192.0.2.10                   (static)
#   s6   AAAA  2001:db8::10                 (static)
# "Cluster" addresses 127.0.1.{1,2,3} each have an nginx origin on port
# CLUSTER_PORT (18090) answering GET /health; gdnsd monitors them with its
# http_status plugin (MON_* knobs below).

DNS_LISTEN=${DNS_LISTEN:-127.0.0.1:15353}
DNS_ADDR=${DNS_LISTEN%:*}
DNS_PORT=${DNS_LISTEN##*:}
CLUSTER_PORT=${CLUSTER_PORT:-18090}
CLUSTERS=(127.0.1.1 127.0.1.2 127.0.1.3)
# gdnsd monitor settings.  gdnsd 3.8.1 rejects interval < 2 ("Value out of
# range (2, 3600)"), timeout must be >= 1 and < interval.
MON_PLUGIN=${MON_PLUGIN:-http_status}
MON_INTERVAL=${MON_INTERVAL:-2}
MON_TIMEOUT=${MON_TIMEOUT:-1}
MON_UP=${MON_UP:-20}      # gdnsd defaults: up 20, ok 10, down 10
MON_OK=${MON_OK:-10}
MON_DOWN=${MON_DOWN:-10}

# start_clusters : one nginx origin per cluster address; sets CLUSTER_PIDS.
start_clusters() {
  CLUSTER_PIDS=()
  local i
  for i in "${!CLUSTERS[@]}"; do
    start_origin "cluster$((i + 1))" "${CLUSTERS[$i]}:$CLUSTER_PORT" 1
    CLUSTER_PIDS+=("$LAST_PID")
  done
}

zone_common() {
  cat <<'EOF'
$TTL 300
@     SOA  ns1.glb.example. hostmaster.glb.example. 1 7200 1800 1209600 300
@     NS   ns1.glb.example.
ns1   A    127.0.0.1
s     A    192.0.2.10
s6    AAAA 2001:db8::10
EOF
}

write_gdnsd_cfg() {
  local d=$WORK/gdnsd
  mkdir -p "$d/zones" "$d/run" "$d/state"
  local mon_port_key=port
  cat > "$d/config" <<EOF
options => {
  listen => [ $DNS_ADDR:$DNS_PORT ]
  run_dir => $d/run
  state_dir => $d/state
}
service_types => {
  web => {
    plugin => $MON_PLUGIN
    $mon_port_key => $CLUSTER_PORT
    $( [[ $MON_PLUGIN == http_status ]] && echo "url_path => /health" )
    interval => $MON_INTERVAL
    timeout => $MON_TIMEOUT
    up_thresh => $MON_UP
    ok_thresh => $MON_OK
    down_thresh => $MON_DOWN
  }
}
plugins => {
  multifo => {
    www => {
      service_types => web
      c1 => ${CLUSTERS[0]}
      c2 => ${CLUSTERS[1]}
      c3 => ${CLUSTERS[2]}
    }
  }
  weighted => {
    w => {
      service_types => web
      c1 => [ ${CLUSTERS[0]}, 3 ]
      c2 => [ ${CLUSTERS[1]}, 1 ]
      c3 => [ ${CLUSTERS[2]}, 1 ]
    }
  }
}
EOF
  { zone_common
    echo "www   30 DYNA multifo!www"
    echo "w     30 DYNA weighted!w"
  } > "$d/zones/glb.example"
}

write_knot_cfg() {
  local d=$WORK/knot
  mkdir -p "$d/zones" "$d/run" "$d/db"
  cat > "$d/knot.conf" <<EOF
server:
  listen: $DNS_ADDR@$DNS_PORT
  rundir: $d/run
  pidfile: $d/run/knot.pid
log:
  - target: stderr
    any: warning
database:
  storage: $d/db
control:
  listen: $d/run/knot.sock
template:
  - id: default
    storage: $d/zones
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: glb.example.
EOF
  { zone_common
    for c in "${CLUSTERS[@]}"; do echo "www   30 A $c"; done
    for c in "${CLUSTERS[@]}"; do echo "w     30 A $c"; done
  } > "$d/zones/glb.example.zone"
}

# start_dns SPEC : sets DNS_PID.  SPEC = gdnsd | knot | cmd:<command>
start_dns() {
  local spec=$1
  case $spec in
    gdnsd)
      write_gdnsd_cfg
      start_bg gdnsd gdnsd -c "$WORK/gdnsd" start ;;
    knot)
      write_knot_cfg
      start_bg knotd knotd -c "$WORK/knot/knot.conf" ;;
    cmd:*)
      start_bg cmd-dns env DNS_LISTEN="$DNS_LISTEN" CLUSTERS="$(IFS=,; echo "${CLUSTERS[*]}")" \
        CLUSTER_PORT="$CLUSTER_PORT" BENCH_TMP="$WORK" bash -c "${spec#cmd:}" ;;
    *) die "unknown DNS system '$spec'" ;;
  esac
  DNS_PID=$LAST_PID
  local i
  for i in $(seq 150); do
    if dig +time=1 +tries=1 +short @"$DNS_ADDR" -p "$DNS_PORT" s.glb.example A 2>/dev/null | grep -q 192.0.2.10; then
      return 0
    fi
    kill -0 "$DNS_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 30 "$WORK"/gdnsd.log "$WORK"/knotd.log "$WORK"/cmd-dns.log >&2 2>/dev/null || true
  die "DNS server '$spec' not answering on $DNS_LISTEN"
}

stop_dns() {
  [[ -n ${DNS_PID:-} ]] || return 0
  stop_tree "$DNS_PID" TERM
  forget_pid "$DNS_PID"
  DNS_PID=""
}
