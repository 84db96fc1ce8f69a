#!/bin/bash
# rtm_load.sh — the RTM recording path end to end: for each N, a fresh parleyd (pinned to
# SERVER_CPU) and bench/rtm_load (on CLIENT_CPU) with N synthetic 1.5 Mbit/s agents.
# Usage: bench/rtm_load.sh [N...]   (default: 10 50 100 200); settings below via env.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
SECONDS_REC=${SECONDS_REC:-30}
SECONDS_BASE=${SECONDS_BASE:-10}
SECONDS_IDLE=${SECONDS_IDLE:-5}
BITRATE=${BITRATE:-1500000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(10 50 100 200)

for f in parleyd parleyctl bench/rtm_load; do
  if [ ! -x "$BUILD_DIR/$f" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl rtm_load >/dev/null
    break
  fi
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bench_workdir rtm-load

bench_machine
status=0
for N in "${COUNTS[@]}"; do
  dir=$WORK/data-$N
  mkdir -p "$dir" "$WORK/keep-$N"
  "$BUILD_DIR/parleyctl" --data-dir "$dir" account add --cid bench >/dev/null
  for ((i = 0; i < N; i++)); do
    "$BUILD_DIR/parleyctl" --data-dir "$dir" jwt --account bench --client-id "agent-$i" --ttl 7200
  done >"$WORK/tokens-$N"
  # The RTM keep-alive timers are the client's business here (it pings every 5 s); a
  # long set-up of many agents must not end the first ones for want of RTP.
  CMD_DAEMON="taskset -c $SERVER_CPU $BUILD_DIR/parleyd --data-dir $dir --http 127.0.0.1:0 --media-port 0 --log-level warn --rtm-no-packet-timeout 120"
  $CMD_DAEMON 2>"$dir.log" &
  DAEMON=$!
  PORT=$(bench_listen_port "$DAEMON" "$dir.log") || exit 1
  CMD="taskset -c $CLIENT_CPU $BUILD_DIR/bench/rtm_load --port $PORT --pid $DAEMON --tokens $WORK/tokens-$N --agents $N --seconds $SECONDS_REC --baseline-seconds $SECONDS_BASE --idle-seconds $SECONDS_IDLE --bitrate $BITRATE --keep-dir $WORK/keep-$N --server-cpu $SERVER_CPU"
  echo
  echo "\$ $CMD_DAEMON"
  echo "\$ $CMD"
  $CMD || status=1
  kill "$DAEMON" 2>/dev/null || true
  wait "$DAEMON" 2>/dev/null || true
  DAEMON=
  if grep -qv "listening on" "$dir.log"; then
    echo "parleyd's warnings:"
    grep -v "listening on" "$dir.log" | cut -c26-200 | sort | uniq -c | sort -rn | head -5
  fi
  rm -rf "$dir" "$WORK/keep-$N"
done
exit $status
