#!/usr/bin/env bash
# Runs the whole suite: the code-shape checks (include layers, clang-format), unit tests
# (ctest) on the release and the ASan+UBSan builds, the integration tests (node) against
# both daemons, the Debian package and make install, the browser tests, and a short run
# of each fuzzer.
# Ends with one line "N passed, N failed" counting the stages.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()

stage() {
  local name=$1
  shift
  echo
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# C sources the style applies to: what git tracks, or every one outside build dirs.
c_sources() {
  git ls-files '*.c' '*.h' 2>/dev/null ||
    find src tools tests bench fuzz -name '*.[ch]' -not -path '*/node_modules/*'
}
stage "include layers" scripts/check-layers.sh
stage "allocations through core/mem.h" scripts/check-alloc.sh
stage "clang-format" clang-format --dry-run -Werror $(c_sources)
stage "unit tests (release)" ctest --test-dir build --output-on-failure
stage "unit tests (asan+ubsan)" ctest --test-dir build-asan --output-on-failure
if [ -d tests/integration ] && ls tests/integration/*.test.mjs >/dev/null 2>&1; then
  stage "integration tests (release)" env PARLEY_BIN_DIR="$PWD/build" \
    node --test --test-concurrency=2 tests/integration/
  stage "integration tests (asan+ubsan)" env PARLEY_BIN_DIR="$PWD/build-asan" \
    node --test --test-concurrency=2 tests/integration/
fi
# make deb and make install DESTDIR=...: once, they do not depend on the build type.
if ls tests/package/*.test.mjs >/dev/null 2>&1; then
  stage "Debian package and make install" env PARLEY_BIN_DIR="$PWD/build" \
    node --test --test-concurrency=1 tests/package/
fi
if ls tests/browser/*.test.mjs >/dev/null 2>&1; then
  stage "browser (Chromium, Firefox WebRTC) tests (release)" env PARLEY_BIN_DIR="$PWD/build" \
    node --test --test-concurrency=1 tests/browser/
  stage "browser (Chromium, Firefox WebRTC) tests (asan+ubsan)" env PARLEY_BIN_DIR="$PWD/build-asan" \
    node --test --test-concurrency=1 tests/browser/
fi
if [ -x fuzz/run.sh ]; then
  stage "fuzzers (short run)" fuzz/run.sh "${PARLEY_FUZZ_SECONDS:-10}"
fi

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
