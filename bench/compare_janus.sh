#!/bin/bash
# compare_janus.sh — issue 4's side-by-side: 1 publisher → N subscribers through parleyd
# (conf_load) and then Janus's VideoRoom (janus_load), back to back, as a ratio table.
# Usage: bench/compare_janus.sh [N ...]        (default: 10 100 500)
#        SCENARIO=mesh bench/compare_janus.sh [K ...]   (default: 10)
#   mesh: issue 15's all-to-all session, K participants each publishing one stream and
#   subscribed to the other K - 1 on one connection: pubsub_load --mesh through a pub/sub
#   session against janus_load --mesh through a VideoRoom (multistream subscriptions).
# Env: RUN_SECONDS (5), REPEATS (1; the table shows each figure's median), PPS_<N>
# (publisher packets/s: 1000, 400 for N >= 500), SERVER_CPU (0), CLIENT_CPU (1),
# JANUS_LOOPS ("default 1": each N runs Janus once per entry; "default" is Janus's own
# default, a media loop thread per handle, a number K sets event_loops = K, K shared
# loops, which Janus's config recommends for many handles).
#
# Janus never gathers ICE candidates on a loopback interface (its ice.c skips IFF_LOOPBACK),
# and libnice sends with IP_UNICAST_IF on the interface it gathered on, which the kernel
# refuses (EINVAL) for a 127/8 source. So the whole comparison runs in a private network
# namespace (unshare --net) with no route out: a veth interface there holds 10.77.0.1 for
# Janus and for the Janus load client's peers; parleyd and its load client use 127.0.0.1.
# Both are local delivery in the kernel; no packet can leave the namespace.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
source "$ROOT/bench/lib.sh"
SCENARIO=${SCENARIO:-fanout}
SIZES=("$@")
if [ ${#SIZES[@]} -eq 0 ]; then
  if [ "$SCENARIO" = mesh ]; then SIZES=(10); else SIZES=(10 100 500); fi
fi
RUN_SECONDS=${RUN_SECONDS:-5}
REPEATS=${REPEATS:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
JANUS_HTTP_PORT=18088
JANUS_ADDRESS=10.77.0.1

# Median of each figure per server and N, then the Parley/Janus ratio per CPU-second, from
# the RESULT lines of the files given.
print_table() {
  grep -h '^RESULT' "$@" | awk '
  function median(list,   a, k, t, i, j) {
    k = split(list, a, " ")
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
      if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
  }
  {
    delete f
    for (i = 2; i <= NF; i++) f[substr($i, 1, index($i, "=") - 1)] = substr($i, index($i, "=") + 1)
    if ($2 == "udp_floor") { floor_us[f["n"]] = f["us_per_datagram"]; next }
    key = f["server"] " " f["n"]
    if (!(key in seen)) { seen[key] = 1; order[++count] = key }
    if ($NF == "failed") { failed[key]++; next }
    for (m in f) if (m != "server" && m != "n") v[key, m] = v[key, m] " " f[m]
  }
  END {
    printf "%-15s %5s %6s %10s %12s %9s %11s %16s %12s %14s\n", "server", "N", "pps", "delivered",
      "egress pkt/s", "Mbit/s", "server CPU", "pkts per CPU-s", "Parley/Janus", "own us/pkt"
    for (i = 1; i <= count; i++) {
      split(order[i], sn, " ")
      if (v[order[i], "per_cpu_s"] == "") {
        printf "%-15s %5s %s\n", sn[1], sn[2], "failed (see above)"
        continue
      }
      per[order[i]] = median(v[order[i], "per_cpu_s"])
      ratio = ""
      if (sn[1] ~ /^janus/ && per["parleyd " sn[2]] > 0)
        ratio = sprintf("%.2fx", per["parleyd " sn[2]] / per[order[i]])
      # CPU per egress packet above what the kernel alone costs (udp_floor, same N).
      own = (sn[2] in floor_us) ? sprintf("%.2f", 1e6 / per[order[i]] - floor_us[sn[2]]) : "-"
      printf "%-15s %5s %6.0f %9.1f%% %12.0f %9.1f %9.2f s %16.0f %12s %14s\n", sn[1], sn[2],
        median(v[order[i], "pps"]), median(v[order[i], "delivered"]),
        median(v[order[i], "egress_pps"]), median(v[order[i], "mbit"]),
        median(v[order[i], "cpu_s"]), per[order[i]], ratio, own
    }
  }'
}

# bench/compare_janus.sh --table FILE...: the table again from saved outputs (several runs
# pooled), without running anything.
if [ "${1:-}" = --table ]; then
  shift
  print_table "$@"
  exit 0
fi

if [ -z "${PARLEY_BENCH_IN_NETNS:-}" ]; then
  "$ROOT/bench/janus.sh" install
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl conf_load janus_load udp_floor \
    pubsub_load >/dev/null
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  exec $SUDO unshare --net env PARLEY_BENCH_IN_NETNS=1 BUILD_DIR="$BUILD_DIR" \
    RUN_SECONDS="$RUN_SECONDS" REPEATS="$REPEATS" SERVER_CPU="$SERVER_CPU" SCENARIO="$SCENARIO" \
    CLIENT_CPU="$CLIENT_CPU" JANUS_LOOPS="${JANUS_LOOPS-default 1}" \
    $(env | grep '^PPS_' || true) "$0" "${SIZES[@]}"
fi

ip link set lo up
ip link add pbj0 type veth peer name pbj1
ip link set pbj0 up
ip link set pbj1 up
ip addr add "$JANUS_ADDRESS/32" dev pbj0
# 500 subscribers: one socket each on the client, plus Janus's per-handle descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bench_workdir janus

stop_server() {
  kill "$DAEMON" 2>/dev/null || true
  wait "$DAEMON" 2>/dev/null || true
  DAEMON=
}

# Starts parleyd on SERVER_CPU; sets DAEMON and PORT.
start_parley() {
  local dir=$WORK/parley-$1
  "$BUILD_DIR/parleyctl" --data-dir "$dir" room add conf >/dev/null
  SECRET=$("$BUILD_DIR/parleyctl" --data-dir "$dir" account add --cid bench |
    sed -n 's/^jwt_secret: //p')
  # Up to 500 subscribers from 127.0.0.1, set up one after another: neither the
  # per-address bound nor the call setup timeout is what this measures.
  CMD_SERVER="taskset -c $SERVER_CPU $BUILD_DIR/parleyd --data-dir $dir --http 127.0.0.1:0 --media-port 0 --log-level warn --max-connections-per-address 0 --call-setup-timeout 300 --rtc-idle-timeout 600"
  $CMD_SERVER 2>"$dir.log" &
  DAEMON=$!
  PORT=$(bench_listen_port "$DAEMON" "$dir.log")
}

# Starts Janus on SERVER_CPU; sets DAEMON.
start_janus() {
  local dir=$WORK/janus-$1
  CMD_SERVER="taskset -c $SERVER_CPU bench/janus.sh run $dir $JANUS_HTTP_PORT $JANUS_ADDRESS"
  taskset -c "$SERVER_CPU" "$ROOT/bench/janus.sh" run "$dir" "$JANUS_HTTP_PORT" "$JANUS_ADDRESS" \
    >"$dir.log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$JANUS_HTTP_PORT/janus/info" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "compare_janus: janus did not start:" >&2
  cat "$dir.log" >&2
  exit 1
}

bench_machine
echo "janus: $(dpkg-query -W -f='${Version}' janus)"
RESULTS=$WORK/results
: >"$RESULTS"
for rep in $(seq "$REPEATS"); do
  for n in "${SIZES[@]}"; do
    var=PPS_$n
    pps=${!var:-$([ "$n" -ge 500 ] && echo 400 || echo 1000)}
    [ "$SCENARIO" = mesh ] && pps=${!var:-100}
    tag=$n-$rep
    start_parley "$tag"
    if [ "$SCENARIO" = mesh ]; then
      CMD="taskset -c $CLIENT_CPU build/bench/pubsub_load --port $PORT --pid \$PID --cid bench --secret SECRET --mesh $n --seconds $RUN_SECONDS --pps $pps"
      run=("$BUILD_DIR/bench/pubsub_load" --port "$PORT" --pid "$DAEMON" --cid bench
        --secret "$SECRET" --mesh "$n" --seconds "$RUN_SECONDS" --pps "$pps")
    else
      CMD="taskset -c $CLIENT_CPU build/bench/conf_load $PORT conf $n $RUN_SECONDS $pps \$PID"
      run=("$BUILD_DIR/bench/conf_load" "$PORT" conf "$n" "$RUN_SECONDS" "$pps" "$DAEMON")
    fi
    echo
    echo "\$ $CMD_SERVER"
    echo "\$ $CMD"
    taskset -c "$CLIENT_CPU" "${run[@]}" | tee -a "$RESULTS" ||
      echo "RESULT server=parleyd n=$n failed" >>"$RESULTS"
    stop_server
    for loops in $JANUS_LOOPS; do
      name=janus
      if [ "$loops" = default ]; then unset JANUS_EVENT_LOOPS; else
        export JANUS_EVENT_LOOPS=$loops
        name=janus/loops=$loops
      fi
      start_janus "$tag-$loops"
      mesh=()
      [ "$SCENARIO" = mesh ] && mesh=(--mesh)
      CMD="taskset -c $CLIENT_CPU build/bench/janus_load ${mesh[*]} $([ "$SCENARIO" = mesh ] && echo "$n $JANUS_HTTP_PORT" || echo "$JANUS_HTTP_PORT $n") $RUN_SECONDS $pps \$PID $JANUS_ADDRESS"
      if [ "$SCENARIO" = mesh ]; then
        run=("$BUILD_DIR/bench/janus_load" --mesh "$n" "$JANUS_HTTP_PORT")
      else
        run=("$BUILD_DIR/bench/janus_load" "$JANUS_HTTP_PORT" "$n")
      fi
      echo
      echo "\$ JANUS_EVENT_LOOPS=${JANUS_EVENT_LOOPS:-} $CMD_SERVER"
      echo "\$ $CMD"
      if ! taskset -c "$CLIENT_CPU" "${run[@]}" "$RUN_SECONDS" "$pps" "$DAEMON" "$JANUS_ADDRESS" \
        >"$WORK/out"; then
        echo "RESULT server=$name n=$n failed" >>"$RESULTS"
        echo "janus log (last lines):"
        grep -v '^\s*$' "$WORK/janus-$tag-$loops.log" | tail -n 15
      fi
      sed "s|^RESULT server=janus |RESULT server=$name |" "$WORK/out" | tee -a "$RESULTS"
      stop_server
    done
  done
done

# The floor under both: what the kernel alone charges the server's CPU per datagram
# (1 -> N fan-out only: a mesh's datagrams go to K sockets, not N).
for n in "${SIZES[@]}"; do
  [ "$SCENARIO" = mesh ] && break
  echo
  echo "\$ taskset -c $SERVER_CPU build/bench/udp_floor $n 1000000 64"
  taskset -c "$SERVER_CPU" "$BUILD_DIR/bench/udp_floor" "$n" 1000000 64 | tee -a "$RESULTS"
done

echo
echo "medians of $REPEATS run(s), $RUN_SECONDS s windows; own us/pkt = server CPU per egress"
echo "packet minus udp_floor's kernel cost per datagram at the same N:"
print_table "$RESULTS"
