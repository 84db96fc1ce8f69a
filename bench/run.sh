#!/bin/bash
# run.sh — builds the benchmarks if needed, starts parleyd on 127.0.0.1 with a temporary
# data dir, runs token_bench and/or sse_fanout, and prints the figures with the machine.
# Usage: bench/run.sh [all|token|fanout]   (settings below can be overridden by env)
set -euo pipefail
WHICH=${1:-all}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
TOKEN_CONNS=${TOKEN_CONNS:-32}
TOKEN_SECONDS=${TOKEN_SECONDS:-10}
FANOUT_STREAMS=${FANOUT_STREAMS:-1000}
FANOUT_MESSAGES=${FANOUT_MESSAGES:-200}
FANOUT_RATE=${FANOUT_RATE:-20}
# The initial roster burst of a 1,000-participant room is ~0.5 MB per stream, past the
# default 256 KiB queue (see docs/PERFORMANCE.md), so the fan-out run raises it.
SSE_QUEUE_BYTES=${SSE_QUEUE_BYTES:-4194304}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

need_build=0
for f in parleyd parleyctl bench/token_bench bench/sse_fanout; do
  [ -x "$BUILD_DIR/$f" ] || need_build=1
done
if [ $need_build = 1 ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl token_bench sse_fanout >/dev/null
fi

# 1,000 streams plus the joining and sending connections, on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  echo "run.sh: need at least 4096 file descriptors (ulimit -n), have $(ulimit -n)" >&2
  exit 1
fi

bench_workdir bench

# Starts parleyd pinned to SERVER_CPU with the given extra flags; sets DAEMON and PORT.
start_daemon() {
  local name=$1
  shift
  bench_start_daemon "$name" "$ROOM" "taskset -c $SERVER_CPU " "$@"
}

bench_machine
status=0

if [ "$WHICH" = all ] || [ "$WHICH" = token ]; then
  ROOM=bench
  start_daemon token
  CMD="taskset -c $CLIENT_CPU $BUILD_DIR/bench/token_bench --port $PORT --pid $DAEMON --alias $ROOM --conns $TOKEN_CONNS --seconds $TOKEN_SECONDS"
  echo
  echo "\$ $CMD_DAEMON"
  echo "\$ $CMD"
  $CMD || status=1
  bench_stop_daemon
fi

if [ "$WHICH" = all ] || [ "$WHICH" = fanout ]; then
  ROOM=fanout
  start_daemon fanout --sse-queue-bytes "$SSE_QUEUE_BYTES" --token-lifetime 600 --chat-rate 0
  CMD="taskset -c $CLIENT_CPU $BUILD_DIR/bench/sse_fanout --port $PORT --pid $DAEMON --alias $ROOM --streams $FANOUT_STREAMS --messages $FANOUT_MESSAGES --rate $FANOUT_RATE"
  echo
  echo "\$ $CMD_DAEMON"
  echo "\$ $CMD"
  $CMD || status=1
  bench_stop_daemon
fi
exit $status
