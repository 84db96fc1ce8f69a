#!/bin/bash
# policy_join.sh — joins per second (token_bench: request_token + release_token pairs)
# without a policy server, then with a local one (bench/policy_server.mjs) that answers at
# once: a store room the policy server lets through (action continue), and an ad-hoc room
# only the policy server knows. Prints the machine, the commands and token_bench's lines.
# Usage: bench/policy_join.sh   (BUILD_DIR, TOKEN_CONNS=32, TOKEN_SECONDS=5, WARMUP=3 from env)
# Nothing is pinned by default: three processes (parleyd, token_bench, the policy server)
# share the cores; PIN=1 pins parleyd to SERVER_CPU and the two clients to CLIENT_CPU.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
TOKEN_CONNS=${TOKEN_CONNS:-32}
TOKEN_SECONDS=${TOKEN_SECONDS:-5}
WARMUP=${WARMUP:-3} # s; a fresh policy server (Node) is slow for its first seconds
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SERVER_PIN= CLIENT_PIN=
if [ "${PIN:-0}" = 1 ]; then
  SERVER_PIN="taskset -c $SERVER_CPU " CLIENT_PIN="taskset -c $CLIENT_CPU "
fi
for f in parleyd parleyctl bench/token_bench; do
  if [ ! -x "$BUILD_DIR/$f" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD_DIR" -j2 --target parleyd parleyctl token_bench >/dev/null
    break
  fi
done
bench_workdir policy
POLICY=
cleanup() {
  if [ -n "$POLICY" ]; then kill "$POLICY" 2>/dev/null || true; fi
  bench_cleanup
}
trap cleanup EXIT

start_daemon() { # NAME ARGS...
  local name=$1
  shift
  bench_start_daemon "$name" bench "$SERVER_PIN" "$@"
}

run() { # TITLE ALIAS
  local cmd="$CLIENT_PIN$BUILD_DIR/bench/token_bench --port $PORT --pid $DAEMON --alias $2 --conns $TOKEN_CONNS --seconds $TOKEN_SECONDS --warmup $WARMUP"
  echo
  echo "## $1"
  echo "\$ $CMD_DAEMON"
  echo "\$ $cmd"
  $cmd
}

bench_machine
start_daemon plain
run "no policy server" bench
bench_stop_daemon

$CLIENT_PIN node "$ROOT/bench/policy_server.mjs" >"$WORK/policy.out" &
POLICY=$!
for _ in $(seq 100); do
  grep -q '^port' "$WORK/policy.out" 2>/dev/null && break
  sleep 0.05
done
PPORT=$(sed -n 's/^port //p' "$WORK/policy.out")
echo
echo "policy server: ${CLIENT_PIN}node bench/policy_server.mjs (port $PPORT)"
start_daemon policy --policy-url "http://127.0.0.1:$PPORT"
run "policy server, store room (service continue, participant continue, location)" bench
run "policy server, ad-hoc room (service from the policy server)" adhoc
bench_stop_daemon
start_daemon policy2 --policy-url "http://127.0.0.1:$PPORT" --policy-media-location=0
run "policy server without media location, store room" bench
bench_stop_daemon
kill -TERM "$POLICY"
wait "$POLICY" 2>/dev/null || true
POLICY=
cat "$WORK/policy.out" | tail -1
