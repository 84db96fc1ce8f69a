/* check — the invariant macro the harnesses use: like assert, but kept in release
 * builds (RelWithDebInfo defines NDEBUG) and reported as a crash libFuzzer records. */
#ifndef PARLEY_FUZZ_CHECK_H
#define PARLEY_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                      \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);       \
      abort();                                                                           \
    }                                                                                    \
  } while (0)

#endif
