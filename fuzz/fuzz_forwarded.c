/* fuzz_forwarded — libFuzzer harness for X-Forwarded-For values from a trusted proxy
 * (and --trust-proxy lists): the input is split at its first NUL into a trust list and
 * header values separated by '\n'; a client found is never a trusted address unless
 * every entry was, and its text form parses back to itself. */
#include "core/cidr.h"
#include "http/forwarded.h"

#include "check.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  const char *text = (const char *)data;
  const char *nul = memchr(text, '\0', len);
  char list[256];
  size_t llen = nul ? (size_t)(nul - text) : 0;
  if (llen >= sizeof list)
    return 0;
  memcpy(list, text, llen);
  list[llen] = '\0';
  cidr_list trusted;
  char err[128];
  if (cidr_list_parse(list, &trusted, err, sizeof err) != 0)
    return 0;
  const char *rest = nul ? nul + 1 : text;
  size_t rlen = len - (size_t)(rest - text);
  char *copy = malloc(rlen ? rlen : 1); /* exact size: values are not NUL-terminated */
  if (rlen)
    memcpy(copy, rest, rlen);
  const char *values[8];
  size_t lens[8], n = 0, start = 0;
  for (size_t i = 0; i <= rlen && n < 8; i++) {
    if (i == rlen || copy[i] == '\n') {
      values[n] = copy + start;
      lens[n++] = i - start;
      start = i + 1;
    }
  }
  net_addr a;
  if (forwarded_client(values, lens, n, &trusted, &a) == 0) {
    CHECK(a.family == AF_INET || a.family == AF_INET6);
    char out[64];
    net_addr_format(&a, out, sizeof out);
    net_addr back;
    CHECK(net_addr_parse(out, strlen(out), &back) == 0);
    CHECK(memcmp(&back, &a, sizeof a) == 0);
  }
  free(copy);
  cidr_list_free(&trusted);
  return 0;
}
