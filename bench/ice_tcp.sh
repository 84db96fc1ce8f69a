#!/bin/bash
# ice_tcp.sh — the echo path over ICE-TCP against UDP, same workload, same machine: for
# each repeat, a fresh parleyd pinned to one core and echo_load (pinned to another) once
# over UDP and once over TCP, interleaved; then the median packets (in + out) per server
# CPU-second of each.
# Usage: bench/ice_tcp.sh [CALLS [PPS_PER_CALL [SECONDS]]]   (default 20 1000 5; REPEATS=3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
CALLS=${1:-20}
PPS=${2:-1000}
SECONDS_PER_RUN=${3:-5}
REPEATS=${REPEATS:-3}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

if [ ! -x "$BUILD_DIR/parleyd" ] || [ ! -x "$BUILD_DIR/parleyctl" ] ||
  [ ! -x "$BUILD_DIR/bench/echo_load" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl echo_load >/dev/null
fi

bench_workdir ice-tcp
bench_machine
results=$WORK/results
for r in $(seq "$REPEATS"); do
  for transport in udp tcp; do
    dir=$WORK/data-$r-$transport
    "$BUILD_DIR/parleyctl" --data-dir "$dir" room add echo --test-call >/dev/null
    cmd="taskset -c $SERVER_CPU $BUILD_DIR/parleyd --data-dir $dir --http 127.0.0.1:0"
    cmd="$cmd --media-port 0 --log-level warn"
    $cmd 2>"$dir.log" &
    DAEMON=$!
    port=$(bench_listen_port "$DAEMON" "$dir.log") || exit 1
    echo "\$ $cmd"
    echo "\$ taskset -c $CLIENT_CPU $BUILD_DIR/bench/echo_load $port $CALLS $SECONDS_PER_RUN $PPS $DAEMON $transport"
    taskset -c "$CLIENT_CPU" "$BUILD_DIR/bench/echo_load" "$port" "$CALLS" \
      "$SECONDS_PER_RUN" "$PPS" "$DAEMON" "$transport" | tee -a "$results"
    kill "$DAEMON"
    wait "$DAEMON" 2>/dev/null || true
    DAEMON=
  done
done
for transport in udp tcp; do
  grep "^RESULT transport=$transport " "$results" | sed 's/.*per_cpu_s=//' | sort -n |
    awk -v t="$transport" '{v[NR] = $1} END {
      printf "median %s: %d packets (in + out) per server CPU-second (of %d runs)\n",
        t, v[int((NR + 1) / 2)], NR }'
done
