/* fuzz_retry_after — libFuzzer harness for the response bytes the HTTP client reads
 * itself: Retry-After header lines and values, checked against the obvious invariants. */
#include "http/retry_after.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Exact-size heap copy: header lines from curl are not NUL-terminated. */
static char *copy(const uint8_t *data, size_t len) {
  char *p = malloc(len ? len : 1);
  if (len)
    memcpy(p, data, len);
  return p;
}

static int all_digits(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return len > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  char *text = copy(data, len);
  const time_t now = 1700000000;
  int v = retry_after_value(text, len, now);
  CHECK(v >= -1 && v <= RETRY_AFTER_MAX_S);
  /* plain delta-seconds of a sane size must read back as themselves */
  if (all_digits(text, len) && len <= 5) {
    char small[6];
    memcpy(small, text, len);
    small[len] = '\0';
    int n = atoi(small);
    CHECK(v == (n > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : n));
  }
  int s = -2;
  int is = retry_after_header(text, len, now, &s);
  CHECK(is == 0 || is == 1);
  CHECK(is == 0 ? s == -2 : (s >= -1 && s <= RETRY_AFTER_MAX_S));
  free(text);
  return 0;
}
