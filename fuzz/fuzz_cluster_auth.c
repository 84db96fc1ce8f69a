/* fuzz_cluster_auth — libFuzzer harness for what arrives from the network under the
 * cluster secret: X-Parley-Relay header values and cluster tokens. The input is split at
 * its first NUL: the part before is tried as a relay header, the part after as a token.
 * Nothing is accepted that was not signed with the key (the fuzzer cannot find an
 * HMAC-SHA256), and what this harness signs itself always verifies. */
#include "auth/cluster_auth.h"

#include "check.h"

#include <string.h>

static const uint8_t key[] = "fuzz-cluster-secret-0123456789abcdef";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
  const char *text = (const char *)data;
  const char *nul = memchr(text, '\0', len);
  size_t hlen = nul ? (size_t)(nul - text) : len;
  char id[RELAY_NODE_ID_MAX];
  const char *path = "/api/client/v2/conferences/a/events";
  relay_verdict v = relay_header_verify(key, 32, text, hlen, 1700000000000, "GET", path,
                                        strlen(path), id);
  CHECK(v == RELAY_MALFORMED || v == RELAY_BAD_MAC);
  if (nul) {
    const char *tok = nul + 1;
    size_t tlen = len - hlen - 1;
    char uuid[65];
    ctoken_verdict t = ctoken_check(key, 32, tok, tlen, "room", 0, uuid);
    CHECK(t == CTOKEN_MALFORMED || t == CTOKEN_BAD_MAC);
  }
  /* The input as a node id and a room key: signing then verifying round-trips. */
  char name[RELAY_NODE_ID_MAX], h[RELAY_HEADER_MAX + 1];
  size_t nlen = hlen < sizeof name - 1 ? hlen : sizeof name - 1;
  memcpy(name, text, nlen);
  name[nlen] = '\0';
  int n = relay_header_sign(key, 32, name, 42, "POST", path, strlen(path), h, sizeof h);
  if (n > 0) {
    CHECK(relay_header_verify(key, 32, h, (size_t)n, 43, "POST", path, strlen(path),
                              id) == RELAY_OK);
    CHECK(strcmp(id, name) == 0);
  }
  char t[CTOKEN_MAX], uuid[65];
  n = ctoken_make(key, 32, "0123456789012345678901234567890123456789abc", name,
                  "0f6b7a3e-1b2c-4d5e-8f90-123456789abc", 100, t, sizeof t);
  CHECK(n > 0 && ctoken_check(key, 32, t, (size_t)n, name, 99, uuid) == CTOKEN_OK);
  return 0;
}
