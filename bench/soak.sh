#!/bin/bash
# soak.sh — a benchmark, not a test (make test does not run it): parleyd on 127.0.0.1 with
# STREAMS event streams (10 rooms of 1,000 participants) and REFRESH_RATE refresh_token/s
# for MINUTES; every 30 s it prints RSS and the refreshes' p50/p99 latency, and at the end
# whether RSS stayed flat (within 5 %) after the warm-up (WARMUP s), and any error.
# Usage: bench/soak.sh [MINUTES]   (settings below can be overridden by env)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MINUTES=${1:-${MINUTES:-10}}
STREAMS=${STREAMS:-10000}
ROOMS=${ROOMS:-10}
REFRESH_RATE=${REFRESH_RATE:-1000}
REFRESH_CONNS=${REFRESH_CONNS:-32}
INTERVAL=${INTERVAL:-30}
# Each participant is refreshed every STREAMS / REFRESH_RATE = 10 s; a 45 s lifetime lets
# the old tokens (kept until their own expiry) reach their steady count, 45,000, within
# the 60 s warm-up, so that RSS can be flat after it.
TOKEN_LIFETIME=${TOKEN_LIFETIME:-45}
WARMUP=${WARMUP:-60}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

if [ ! -x "$BUILD_DIR/parleyd" ] || [ ! -x "$BUILD_DIR/parleyctl" ] ||
  [ ! -x "$BUILD_DIR/bench/soak" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl soak >/dev/null
fi

# Both ends hold STREAMS sockets, plus the joining and refreshing connections.
need=$((STREAMS + REFRESH_CONNS + 256))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  echo "soak.sh: need at least $need file descriptors (ulimit -n), have $(ulimit -n)" >&2
  exit 1
fi

bench_workdir soak
dir=$WORK/data
for i in $(seq 0 $((ROOMS - 1))); do
  "$BUILD_DIR/parleyctl" --data-dir "$dir" room add "soak$i" >/dev/null
done
# All connections come from 127.0.0.1: the per-address bound is lifted for the run.
CMD_DAEMON="taskset -c $SERVER_CPU $BUILD_DIR/parleyd --data-dir $dir --http 127.0.0.1:0 \
--log-level warn --media-port 0 --token-lifetime $TOKEN_LIFETIME --max-connections-per-address 0"
$CMD_DAEMON 2>"$WORK/parleyd.log" &
DAEMON=$!
PORT=$(bench_listen_port "$DAEMON" "$WORK/parleyd.log") || exit 1

CMD="taskset -c $CLIENT_CPU $BUILD_DIR/bench/soak --port $PORT --pid $DAEMON \
--streams $STREAMS --rooms $ROOMS --rate $REFRESH_RATE --conns $REFRESH_CONNS \
--minutes $MINUTES --interval $INTERVAL --warmup $WARMUP"
bench_machine
echo "\$ $CMD_DAEMON"
echo "\$ $CMD"
status=0
$CMD || status=1
if ! kill -0 "$DAEMON" 2>/dev/null; then
  echo "soak.sh: parleyd died during the run:" >&2
  tail -n 20 "$WORK/parleyd.log" >&2
  status=1
fi
if grep -qv 'listening on' "$WORK/parleyd.log"; then
  echo "parleyd warnings and errors (last 5):"
  grep -v 'listening on' "$WORK/parleyd.log" | tail -n 5
fi
exit $status
