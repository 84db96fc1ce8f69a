#!/bin/bash
# memory_per_participant.sh — parleyd's resident memory per media participant, with real
# ICE + DTLS + SRTP peers: for each kind and N, a fresh parleyd (one core), N peers joined
# by a load client (the other core), VmRSS read empty and after SECONDS of media.
#   audio      mix_load: Opus sendrecv participants with audio levels, 3 talking
#   video      memory_load sendrecv: every peer publishes VP8 at PPS and receives video
#   receivers  memory_load recvonly: one publisher, N - 1 video receivers
# Per participant = (RSS after - RSS empty) / N; the slope between the two sizes leaves
# out what the first participant costs once (threads' arenas, the room, the mixer).
# Usage: bench/memory_per_participant.sh [N ...]   (default 20 40; settings below via env)
# e.g. KINDS=video PARLEYD=../other/build/parleyd bench/memory_per_participant.sh 20 40
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
KINDS=${KINDS:-audio video receivers}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
PPS=${PPS:-100} # 1,200-byte packets: ~1 Mbit/s of video per publisher
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PARLEYD=${PARLEYD:-$BUILD_DIR/parleyd} # another tree's daemon, measured with these clients
SIZES=${*:-20 40}

if [ ! -x "$BUILD_DIR/parleyd" ] || [ ! -x "$BUILD_DIR/bench/mix_load" ] ||
  [ ! -x "$BUILD_DIR/bench/memory_load" ]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl mix_load memory_load >/dev/null
fi
bench_workdir memory
bench_machine

declare -A PER
for kind in $KINDS; do
  for n in $SIZES; do
    dir=$WORK/data-$kind-$n
    "$BUILD_DIR/parleyctl" --data-dir "$dir" room add mem >/dev/null
    : >"$dir.log"
    taskset -c "$SERVER_CPU" "$PARLEYD" --data-dir "$dir" --http 127.0.0.1:0 \
      --media-port 0 --log-level warn --max-connections-per-address 0 2>"$dir.log" &
    DAEMON=$!
    port=$(bench_listen_port "$DAEMON" "$dir.log") || exit 1
    case $kind in
    audio)
      cmd="$BUILD_DIR/bench/mix_load $port mem $n 3 $SECONDS_PER_RUN $DAEMON"
      out=$(taskset -c "$CLIENT_CPU" $cmd)
      line=$(grep 'parleyd VmRSS' <<<"$out")
      empty=$(sed 's/.*empty \([0-9]*\) KiB.*/\1/' <<<"$line")
      after=$(sed 's/.*participants \([0-9]*\) KiB.*/\1/' <<<"$line")
      ;;
    video | receivers)
      mode=$([ "$kind" = video ] && echo sendrecv || echo recvonly)
      cmd="$BUILD_DIR/bench/memory_load $port mem $n $mode $SECONDS_PER_RUN $PPS $DAEMON"
      out=$(taskset -c "$CLIENT_CPU" $cmd)
      line=$(grep '^RESULT' <<<"$out")
      empty=$(sed 's/.*empty_kib=\([0-9]*\).*/\1/' <<<"$line")
      after=$(sed 's/.*after_kib=\([0-9]*\).*/\1/' <<<"$line")
      ;;
    esac
    kill "$DAEMON"
    wait "$DAEMON" 2>/dev/null || true
    DAEMON=
    PER[$kind-$n]=$after
    printf '%-9s N %4d: VmRSS empty %6d KiB, with them %7d KiB: %7.1f KiB per participant\n' \
      "$kind" "$n" "$empty" "$after" "$(echo "($after - $empty) / $n" | bc -l)"
    echo "          \$ taskset -c $CLIENT_CPU $cmd" | sed "s|$BUILD_DIR|build|g"
  done
  set -- $SIZES
  if [ $# -ge 2 ]; then
    first=$1
    last=${!#}
    printf '%-9s slope N %d -> %d: %.1f KiB per participant\n' "$kind" "$first" "$last" \
      "$(echo "(${PER[$kind-$last]} - ${PER[$kind-$first]}) / ($last - $first)" | bc -l)"
  fi
done
