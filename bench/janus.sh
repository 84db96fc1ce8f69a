#!/bin/bash
# janus.sh — the Janus side of the forwarding comparison: installs Debian's janus package on
# demand (a benchmark-only dependency) and runs it with a minimal loopback-only config.
# Usage: bench/janus.sh install
#        bench/janus.sh run DIR HTTP_PORT ICE_ADDRESS
#   writes DIR/conf, then execs janus in the foreground (so the caller's $! is Janus's pid).
#   ICE_ADDRESS is the one address Janus gathers candidates on; it must sit on a
#   non-loopback interface, since Janus skips loopback ones (see compare_janus.sh).
# JANUS_EVENT_LOOPS=K shares K media loops between all handles (Janus's event_loops);
# unset, Janus gives every handle its own loop thread, its default.
set -euo pipefail

install_janus() {
  command -v janus >/dev/null 2>&1 && return 0
  echo "janus.sh: installing the janus package (benchmark only)" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # The package enables a systemd unit; nothing here starts it.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends janus
}

# Janus loads every library in its plugin and transport folders, so each gets a folder
# holding only the one it should load: the VideoRoom plugin and the HTTP transport.
write_config() {
  local dir=$1 port=$2 ice_address=$3 libdir
  libdir=$(dirname "$(dpkg -L janus | grep -m1 '/janus/plugins/libjanus_videoroom.so$')")
  libdir=$(dirname "$libdir")
  mkdir -p "$dir/conf" "$dir/plugins" "$dir/transports" "$dir/none"
  ln -sf "$libdir/plugins/libjanus_videoroom.so" "$dir/plugins/"
  ln -sf "$libdir/transports/libjanus_http.so" "$dir/transports/"
  local loops=""
  [ -n "${JANUS_EVENT_LOOPS:-}" ] && loops="event_loops = $JANUS_EVENT_LOOPS"
  cat >"$dir/conf/janus.jcfg" <<EOF
general: {
  configs_folder = "$dir/conf"
  plugins_folder = "$dir/plugins"
  transports_folder = "$dir/transports"
  events_folder = "$dir/none"
  loggers_folder = "$dir/none"
  debug_level = ${JANUS_DEBUG_LEVEL:-3}
  server_name = "parley-bench"
  session_timeout = 600
  $loops
}
certificates: {
}
media: {
  ipv6 = false
  rtp_port_range = "42000-44999"
}
nat: {
  ice_lite = true
  ice_enforce_list = "$ice_address"
  ignore_mdns = true
  nice_debug = ${JANUS_NICE_DEBUG:-false}
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
  broadcast = false
}
EOF
  cat >"$dir/conf/janus.transport.http.jcfg" <<EOF
general: {
  json = "compact"
  base_path = "/janus"
  http = true
  port = $port
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
EOF
  # No static rooms: the load client creates its own.
  cat >"$dir/conf/janus.plugin.videoroom.jcfg" <<EOF
general: {
}
EOF
}

case "${1:-}" in
install) install_janus ;;
run)
  [ $# -eq 4 ] || { echo "usage: bench/janus.sh run DIR HTTP_PORT ICE_ADDRESS" >&2; exit 2; }
  install_janus
  write_config "$2" "$3" "$4"
  exec janus --config "$2/conf/janus.jcfg" --configs-folder "$2/conf" --disable-colors
  ;;
*)
  echo "usage: bench/janus.sh install | run DIR HTTP_PORT ICE_ADDRESS" >&2
  exit 2
  ;;
esac
