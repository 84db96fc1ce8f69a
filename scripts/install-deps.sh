#!/usr/bin/env bash
# Installs the Debian packages and npm test tools Parley needs, skipping what is already there.
# Idempotent: a second run on a ready machine makes no network calls.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
  libh2o-dev libwslay-dev libuv1-dev libssl-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev libsrtp2-dev libopus-dev
  libhiredis-dev
  libc-ares-dev
  libusrsctp-dev
  libavformat-dev
  curl procps)
# The test suite drives Debian's Chromium and Firefox ESR as the WebRTC peers.
# ffprobe (ffmpeg) checks recorded files in test_recorder; strace watches fsyncs (rtm.test);
# redis-server: the cluster tests start their own on a free port (tests/integration/cluster_*);
# dnsmasq (dnsmasq-base: the binary without the system service) publishes the SRV records
# the parley CLI test resolves, on a loopback port of its own (tests/integration/parley_cli);
# coturn's turnserver relays a relay-only room's call (tests/browser/turn.test);
# ip (iproute2) and nft (nftables) build the network namespaces of tests/browser/netns.mjs.
# make deb (--deb, and the package test under --test) needs dpkg-buildpackage, debhelper
# and fakeroot; the package test checks the unit with systemd-analyze (systemd) and
# deploy.test runs a real nginx in front of parleyd on a port of its own (an nginx that
# the package may start on :80 does not disturb it).
deb_pkgs=(dpkg-dev debhelper fakeroot)
[ "${1:-}" = "--deb" ] && build_pkgs+=("${deb_pkgs[@]}")
[ "${1:-}" = "--test" ] && build_pkgs+=(chromium firefox-esr ffmpeg strace coturn iproute2
  nftables "${deb_pkgs[@]}" systemd nginx
  redis-server dnsmasq-base)
# Node.js may come from Debian (nodejs + npm) or from a repack that ships npm inside nodejs.
command -v node >/dev/null 2>&1 || build_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || build_pkgs+=(npm)

missing=()
for p in "${build_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--test" ]; then
  if [ ! -d tests/node_modules ] || [ tests/package.json -nt tests/node_modules/.stamp ]; then
    echo "install-deps: installing npm test tools"
    (cd tests && npm install --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
  fi
fi
