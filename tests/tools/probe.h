/* probe — what the test probes in tests/tools share: a check that counts and says what
 * failed, and a millisecond clock. */
#ifndef PARLEY_TESTS_PROBE_H
#define PARLEY_TESTS_PROBE_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static int failures __attribute__((unused)); /* a probe may only time things */
/* Counts a failed check and prints it; after 20 only counts (one broken invariant can
 * fail at every packet). */
#define EXPECT(cond, ...)                                                                \
  do {                                                                                   \
    if (!(cond) && ++failures <= 20) {                                                   \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                               \
      fprintf(stderr, __VA_ARGS__);                                                      \
      fputc('\n', stderr);                                                               \
    }                                                                                    \
  } while (0)

static inline uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
