#!/bin/bash
# pubsub_load.sh — forwarding through publish/subscribe sessions (issue 15): for each
# argument, a fresh parleyd pinned to SERVER_CPU and bench/pubsub_load on CLIENT_CPU.
# Usage: bench/pubsub_load.sh [fanout:N | mesh:K ...]   (default: fanout:100 fanout:300
#        mesh:10); SECONDS_ (10), PPS (fanout 262 over l:m:h; mesh 20 per publisher,
#        so nine streams fit the 2.5 Mbit/s a subscriber without transport-cc starts with).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RUNS=("$@")
[ ${#RUNS[@]} -gt 0 ] || RUNS=(fanout:100 fanout:300 mesh:10)

if [ ! -x "$BUILD_DIR/parleyd" ] || [ ! -x "$BUILD_DIR/bench/pubsub_load" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl pubsub_load >/dev/null
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bench_workdir pubsub-load
bench_machine
status=0
for run in "${RUNS[@]}"; do
  kind=${run%%:*} n=${run#*:}
  dir=$WORK/data-$kind-$n
  mkdir -p "$dir"
  secret=$("$BUILD_DIR/parleyctl" --data-dir "$dir" account add --cid bench |
    sed -n 's/^jwt_secret: //p')
  # Sessions cap at 100 participants by default; the idle close (30 s) would end the
  # first sockets during a long set-up.
  CMD_DAEMON="taskset -c $SERVER_CPU $BUILD_DIR/parleyd --data-dir $dir --http 127.0.0.1:0 --log-level warn --max-connections-per-address 0 --rtc-idle-timeout 600 --rtc-max-session-participants 1000"
  $CMD_DAEMON 2>"$dir.log" &
  DAEMON=$!
  PORT=$(bench_listen_port "$DAEMON" "$dir.log") || exit 1
  CMD="taskset -c $CLIENT_CPU $BUILD_DIR/bench/pubsub_load --port $PORT --pid $DAEMON --cid bench --secret $secret --$kind $n --seconds ${SECONDS_:-10}${PPS:+ --pps $PPS}"
  echo
  echo "\$ $CMD_DAEMON"
  echo "\$ ${CMD/--secret $secret/--secret SECRET}"
  $CMD || status=1
  bench_stop_daemon
  if grep -qv "listening on" "$dir.log"; then
    echo "parleyd's warnings:"
    grep -v "listening on" "$dir.log" | cut -c26-200 | sort | uniq -c | sort -rn | head -5
  fi
done
exit $status
