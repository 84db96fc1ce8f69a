#!/bin/sh
# run.sh — runs every libFuzzer harness for SECONDS (default 15) each, from a copy of its
# seed corpus in a temporary directory, and prints one line per harness. Exits 1 on a crash.
# Usage: fuzz/run.sh [SECONDS]    (BUILD_DIR defaults to build-fuzz, built if missing;
#        FUZZ_JOBS harnesses at once, default the cores up to 4)
set -eu
SECONDS_EACH=${1:-15}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-fuzz}
# Every fuzz/fuzz_*.c is a harness (fuzz/CMakeLists.txt builds the same list).
HARNESSES=$(cd "$ROOT/fuzz" && ls fuzz_*.c | sed 's/\.c$//')

# max_len per harness: paths and queries are short; bodies are capped by max_body_bytes
# in parleyd, but the parser's interesting inputs are small.
max_len() {
  case $1 in
  fuzz_route) echo 1024 ;;
  fuzz_body) echo 4096 ;;
  fuzz_request) echo 4096 ;;
  fuzz_stun | fuzz_rtp | fuzz_rtcp | fuzz_twcc) echo 1500 ;;
  fuzz_sdp | fuzz_sdp_offer) echo 16384 ;;
  fuzz_jwt) echo 9000 ;; # just over JWT_MAX_LEN
  fuzz_origin) echo 600 ;;
  fuzz_retry_after) echo 256 ;;
  fuzz_cluster_auth) echo 512 ;;
  fuzz_depacketize) echo 16384 ;;
  fuzz_recover) echo 65536 ;;
  fuzz_tcp_framing) echo 16384 ;; # several frames and a split one
  *) echo 4096 ;;
  esac
}
# A harness's dictionary, when it has one, is fuzz/<name without fuzz_>.dict.
dict() {
  local d="$ROOT/fuzz/${1#fuzz_}.dict"
  if [ -f "$d" ]; then echo "$d"; fi
}

missing=0
for h in $HARNESSES; do [ -x "$BUILD_DIR/fuzz/$h" ] || missing=1; done
if [ $missing = 1 ]; then
  CC=clang cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPARLEY_FUZZ=ON >/dev/null
  cmake --build "$BUILD_DIR" -j2 >/dev/null
fi

WORK=$(mktemp -d /tmp/parley-fuzz.XXXXXX)

# One harness: its result line into $WORK/<name>/result, "ok" or not.
run_one() {
  h=$1
  mkdir -p "$WORK/$h/corpus" "$WORK/$h/artifacts"
  cp "$ROOT/fuzz/corpus/$h/"* "$WORK/$h/corpus/"
  seeds=$(ls "$WORK/$h/corpus" | wc -l)
  d=$(dict "$h")
  set +e
  "$BUILD_DIR/fuzz/$h" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$h")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${d:+-dict="$d"} \
    -artifact_prefix="$WORK/$h/artifacts/" "$WORK/$h/corpus" >"$WORK/$h/log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$h/log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$WORK/$h/log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$WORK/$h/log" | tail -n 1 | cut -d' ' -f2)
  units=$(ls "$WORK/$h/corpus" | wc -l)
  if [ $rc = 0 ]; then
    echo "$h: ok, ${execs:-?} execs in ${SECONDS_EACH}s, cov ${cov:-?}, ft ${ft:-?}," \
      "corpus $seeds -> $units" >"$WORK/$h/result"
  else
    echo "$h: CRASH (exit $rc) after ${execs:-?} execs; log $WORK/$h/log," \
      "input in $WORK/$h/artifacts/" >"$WORK/$h/result"
  fi
}

# Harnesses are single-threaded: JOBS (default: the cores, at most 4) run at once, each
# taking every JOBS-th harness in turn. On 2 cores the 37 harnesses at 10 s each took
# 6.5 min one by one, ~3.3 min two at a time.
JOBS=${FUZZ_JOBS:-$(nproc)}
[ "$JOBS" -gt 4 ] && JOBS=4
[ "$JOBS" -lt 1 ] && JOBS=1
j=0
while [ $j -lt "$JOBS" ]; do
  (
    i=0
    for h in $HARNESSES; do
      [ $((i % JOBS)) = $j ] && run_one "$h"
      i=$((i + 1))
    done
  ) &
  j=$((j + 1))
done
wait
failed=0
for h in $HARNESSES; do
  cat "$WORK/$h/result" 2>/dev/null || echo "$h: no result"
  grep -q ': ok,' "$WORK/$h/result" 2>/dev/null || failed=1
done
# Keep the evidence of a crash; otherwise leave nothing behind.
if [ $failed = 0 ]; then rm -rf "$WORK"; fi
exit $failed
