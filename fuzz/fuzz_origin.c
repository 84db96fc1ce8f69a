/* fuzz_origin — libFuzzer harness for origin_normalise (the Origin header of an RTM
 * upgrade): the result is canonical, idempotent and within bounds. */
#include "auth/origin.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *in = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
  if (size)
    memcpy(in, data, size);
  char out[ORIGIN_MAX_LEN + 1], again[ORIGIN_MAX_LEN + 1];
  memset(out, 0x5a, sizeof out);
  int n = origin_normalise(in, size, out, sizeof out);
  if (n >= 0) {
    CHECK(n <= ORIGIN_MAX_LEN && strlen(out) == (size_t)n);
    CHECK(strncmp(out, "http://", 7) == 0 || strncmp(out, "https://", 8) == 0);
    const char *host = strstr(out, "://") + 3;
    CHECK(*host && !strchr(host, '/') && !strchr(host, '@') && !strchr(host, '?'));
    for (const char *p = out; *p; p++)
      CHECK(!(*p >= 'A' && *p <= 'Z') && (unsigned char)*p > 0x20);
    CHECK(origin_normalise(out, (size_t)n, again, sizeof again) == n);
    CHECK(strcmp(out, again) == 0);
    /* A buffer one byte short is refused, not overrun. */
    char small[ORIGIN_MAX_LEN + 1];
    CHECK(origin_normalise(in, size, small, (size_t)n) == -1);
  }
  free(in);
  return 0;
}
