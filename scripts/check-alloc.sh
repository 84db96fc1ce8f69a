#!/usr/bin/env bash
# check-alloc.sh — fails when code in src/ or tools/ allocates without core/mem.h, which
# states Parley's one out-of-memory policy (abort with the size). Prints each offender.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
files=$(ls src/*.c src/*/*.[ch] tools/*.c | grep -v '^src/core/mem\.c$')
if grep -nE '(^|[^a-zA-Z0-9_>.])(malloc|calloc|realloc|strdup|strndup)\(' $files; then
  echo "allocate with xmalloc/xcalloc/xrealloc/xstrdup/xstrndup (core/mem.h)" >&2
  exit 1
fi
echo "allocations: ok"
