#!/bin/bash
# simulcast_compare.sh — conf_load (one VP8 stream) and simulcast_load (three layers,
# subscribers on the top one) at the same N and the same egress rate, alternating, each
# run on a fresh parleyd; prints every RESULT line and the medians.
# Usage: bench/simulcast_compare.sh N [N...]   (env: ROUNDS 3, SECONDS_ 10, TOP_PPS 150,
#        BUILD_DIR build, SERVER_CPU 0, CLIENT_CPU 1, SIMULCAST_ARGS extra options)
# The simulcast publisher sends TOP_PPS * 7 / 4 packets/s (l:m:h = 1:2:4), conf_load's
# TOP_PPS, so every subscriber receives TOP_PPS either way. TOP_PPS above ~220 makes the
# 1,200-byte top layer exceed what parleyd gives a downlink it has no estimate of.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_:-10}
TOP_PPS=${TOP_PPS:-150}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
[ $# -gt 0 ] || set -- 100 500
for f in parleyd parleyctl bench/conf_load bench/simulcast_load; do
  [ -x "$BUILD_DIR/$f" ] || cmake --build "$BUILD_DIR" -j2 --target "$(basename "$f")" >/dev/null
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bench_workdir simulcast
bench_machine

# run NAME N: one benchmark on a fresh daemon; appends its RESULT line to $WORK/NAME-N.
run() {
  local name=$1 n=$2 dir=$WORK/data-$RANDOM
  "$BUILD_DIR/parleyctl" --data-dir "$dir" room add conf >/dev/null
  taskset -c "$SERVER_CPU" "$BUILD_DIR/parleyd" --data-dir "$dir" --http 127.0.0.1:0 \
    --media-port 0 --log-level warn --max-connections-per-address 0 2>"$dir.log" &
  DAEMON=$!
  local port
  port=$(bench_listen_port "$DAEMON" "$dir.log") || exit 1
  local cmd
  if [ "$name" = conf_load ]; then
    cmd="$BUILD_DIR/bench/conf_load $port conf $n $SECS $TOP_PPS $DAEMON"
  else
    cmd="$BUILD_DIR/bench/simulcast_load $port conf $n $SECS $((TOP_PPS * 7 / 4)) $DAEMON ${SIMULCAST_ARGS:-}"
  fi
  taskset -c "$CLIENT_CPU" $cmd | grep '^RESULT' | tee -a "$WORK/$name-$n" || true
  kill "$DAEMON" 2>/dev/null || true
  wait "$DAEMON" 2>/dev/null || true
  DAEMON=
  rm -rf "$dir"
}

median() { sort -n | awk '{a[NR] = $1} END {print NR ? a[int((NR + 1) / 2)] : "-"}'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

for n in "$@"; do
  echo "N = $n, $TOP_PPS packets/s to each subscriber, ${SECS} s windows, $ROUNDS rounds"
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then run conf_load "$n"; run simulcast_load "$n"
    else run simulcast_load "$n"; run conf_load "$n"; fi
  done
  for name in conf_load simulcast_load; do
    echo "median $name N=$n: per_cpu_s=$(field per_cpu_s <"$WORK/$name-$n" | median)" \
      "delivered=$(field delivered <"$WORK/$name-$n" | median)%" \
      "egress_pps=$(field egress_pps <"$WORK/$name-$n" | median)"
  done
done
