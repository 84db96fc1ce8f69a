# lib.sh — what the benchmark scripts share (sourced, not run): the line that names the
# machine and the tree, a work folder cleaned up at exit, and waiting for a parleyd to listen.

# Two lines: CPU model, cores, kernel, memory, load, and the commit (marked if the tree
# differs from it).
bench_machine() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')," \
    "nproc $(nproc), $(uname -sr), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "parley: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '(uncommitted changes)')"
}

# bench_listen_port PID LOG: prints the HTTP port parleyd PID (started with --http
# 127.0.0.1:0) listens on; exits the script with LOG shown if it never does (5 s). The
# port comes from the start line in LOG: parleyd listens on TCP for ICE-TCP media too,
# so its listening sockets alone do not say which port is HTTP.
bench_listen_port() {
  local pid=$1 log=$2 port=
  for _ in $(seq 100); do
    port=$(sed -n 's|.*listening on https\{0,1\}://[^ ]*:\([0-9]*\) media.*|\1|p' "$log" |
      head -n 1 || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "$(basename "$0"): parleyd did not start listening:" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "$port"
}

# bench_workdir NAME: sets WORK to a new folder under /tmp and DAEMON to empty; at exit the
# server whose pid is in DAEMON (if any) is killed and WORK removed.
bench_workdir() {
  WORK=$(mktemp -d "/tmp/parley-$1.XXXXXX")
  DAEMON=
  trap bench_cleanup EXIT
}

bench_cleanup() {
  if [ -n "${DAEMON:-}" ]; then kill "$DAEMON" 2>/dev/null || true; fi
  rm -rf "$WORK"
}

# bench_start_daemon NAME ROOM PREFIX ARGS...: a parleyd with room ROOM in $WORK/data-NAME,
# started as PREFIX (e.g. "taskset -c 0 ", or "") then the binary and ARGS, every client
# from 127.0.0.1 allowed (the per-address bound, 500, lifted); sets DAEMON, PORT and
# CMD_DAEMON (the command line, for the report).
bench_start_daemon() {
  local dir=$WORK/data-$1 room=$2 prefix=$3
  shift 3
  "$BUILD_DIR/parleyctl" --data-dir "$dir" room add "$room" >/dev/null
  CMD_DAEMON="$prefix$BUILD_DIR/parleyd --data-dir $dir --http 127.0.0.1:0 --log-level warn --max-connections-per-address 0 $*"
  $CMD_DAEMON 2>"$dir.log" &
  DAEMON=$!
  PORT=$(bench_listen_port "$DAEMON" "$dir.log") || exit 1
}

bench_stop_daemon() {
  kill "$DAEMON" 2>/dev/null || true
  wait "$DAEMON" 2>/dev/null || true
  DAEMON=
}
