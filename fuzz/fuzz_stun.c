/* fuzz_stun — libFuzzer harness for STUN: stun_parse on the input, then integrity and
 * fingerprint checks with a fixed key, the addressed ufrag, and a response round trip. */
#include "rtc/ice_lite.h"
#include "rtc/stun.h"

#include "check.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char key[] = "VOkJxbRl1RmTxUk/WvJxBt"; /* RFC 5769's password */

/* The parsed message only points inside the datagram, and its offsets fit. */
static void check_bounds(const uint8_t *buf, size_t size, const stun_msg *m) {
  if (m->username)
    CHECK((const uint8_t *)m->username >= buf &&
          (const uint8_t *)m->username + m->username_len <= buf + size);
  CHECK(m->integrity_at < size && m->fingerprint_at < size);
  size_t len;
  const char *u = ice_lite_addressed_ufrag(m, &len);
  if (u)
    CHECK(u == m->username && len > 0 && len < m->username_len && u[len] == ':');
}

/* What we would answer must itself parse and authenticate. */
static void check_response(const stun_msg *m) {
  struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5000)};
  from.sin_addr.s_addr = htonl(0xc0000201);
  uint8_t out[256];
  size_t n = stun_build_binding_success(out, sizeof out, m->tid,
                                        (const struct sockaddr *)&from, key, strlen(key));
  CHECK(n > 0);
  stun_msg r;
  CHECK(stun_parse(out, n, &r) == 0 && r.type == STUN_BINDING_SUCCESS);
  CHECK(memcmp(r.tid, m->tid, STUN_TID_LEN) == 0);
  CHECK(stun_integrity_ok(out, &r, key, strlen(key)) && stun_fingerprint_ok(out, &r));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = malloc(size ? size : 1); /* exact size: ASan sees any overread */
  if (size)
    memcpy(buf, data, size);
  (void)stun_looks_like(buf, size);
  stun_msg m;
  if (stun_parse(buf, size, &m) == 0) {
    check_bounds(buf, size, &m);
    (void)stun_integrity_ok(buf, &m, key, strlen(key));
    (void)stun_integrity_ok(buf, &m, "", 0);
    (void)stun_fingerprint_ok(buf, &m);
    if (m.type == STUN_BINDING_REQUEST)
      check_response(&m);
  }
  free(buf);
  return 0;
}
