#!/bin/bash
# mix_load.sh — the whole conference audio path: for each N, starts parleyd pinned to one
# core, joins N Opus participants (mix_load, pinned to another) and measures S = 1, 3, 10.
# Usage: bench/mix_load.sh [N ...]   (default 100 300 1000; settings below via env)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
SPEAKERS=${SPEAKERS:-1,3,10}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PARLEYD_FLAGS=${PARLEYD_FLAGS:-} # e.g. --srtp-profiles SRTP_AES128_CM_SHA1_80
SIZES=${*:-100 300 1000}

if [ ! -x "$BUILD_DIR/parleyd" ] || [ ! -x "$BUILD_DIR/parleyctl" ] ||
  [ ! -x "$BUILD_DIR/bench/mix_load" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl mix_load >/dev/null
fi
# One UDP socket per participant on the client side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

bench_workdir mix

bench_machine
for n in $SIZES; do
  dir=$WORK/data-$n
  "$BUILD_DIR/parleyctl" --data-dir "$dir" room add mix >/dev/null
  # Joining 1,000 peers one after another takes a while: tokens, consent and call setup
  # must outlast it (a browser would refresh its token; the load client sends consent
  # checks once everyone is in). All connections come from 127.0.0.1.
  cmd="taskset -c $SERVER_CPU $BUILD_DIR/parleyd --data-dir $dir --http 127.0.0.1:0"
  cmd="$cmd --log-level warn --token-lifetime 3600 --consent-timeout 300"
  cmd="$cmd --call-setup-timeout 300 --max-connections-per-address 0 $PARLEYD_FLAGS"
  $cmd 2>"$dir.log" &
  DAEMON=$!
  port=$(bench_listen_port "$DAEMON" "$dir.log") || exit 1
  echo "\$ $cmd"
  echo "\$ taskset -c $CLIENT_CPU $BUILD_DIR/bench/mix_load $port mix $n $SPEAKERS $SECONDS_PER_RUN $DAEMON"
  taskset -c "$CLIENT_CPU" "$BUILD_DIR/bench/mix_load" "$port" mix "$n" "$SPEAKERS" \
    "$SECONDS_PER_RUN" "$DAEMON"
  kill "$DAEMON"
  wait "$DAEMON" 2>/dev/null || true
  DAEMON=
done
