/* check — what every harness includes: libFuzzer's entry point, declared once, and the
 * invariant macro, like assert but kept in release builds (RelWithDebInfo defines
 * NDEBUG) and reported as a crash libFuzzer records. */
#ifndef PARLEY_FUZZ_CHECK_H
#define PARLEY_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);       \
      abort();                                                                           \
    }                                                                                    \
  } while (0)

#endif
