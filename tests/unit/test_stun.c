/* test_stun — STUN against RFC 5769's sample request (integrity, fingerprint,
 * ICE attributes), round trips of our responses, and malformed input refused. */
#include "check.h"
#include "rtc/stun.h"

#include <arpa/inet.h>

/* RFC 5769 §2.1: username "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt". */
static const uint8_t sample_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
    0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
    0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
    0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
    0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
    0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
    0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};
static const char password[] = "VOkJxbRl1RmTxUk/WvJxBt";

static void test_sample_request(void) {
  stun_msg m;
  CHECK(stun_looks_like(sample_request, sizeof sample_request));
  CHECK(stun_parse(sample_request, sizeof sample_request, &m) == 0);
  CHECK(m.type == STUN_BINDING_REQUEST);
  CHECK(m.username_len == 9 && memcmp(m.username, "evtj:h6vY", 9) == 0);
  CHECK(m.priority == 0x6e0001ff);
  CHECK(m.ice_controlled && !m.ice_controlling);
  CHECK(m.tie_breaker == 0x932ff9b151263b36ULL);
  CHECK(stun_integrity_ok(sample_request, &m, password, strlen(password)));
  CHECK(!stun_integrity_ok(sample_request, &m, "wrong", 5));
  CHECK(stun_fingerprint_ok(sample_request, &m));
  uint8_t copy[sizeof sample_request];
  memcpy(copy, sample_request, sizeof copy);
  copy[30] ^= 1; /* inside SOFTWARE: covered by both checks */
  CHECK(stun_parse(copy, sizeof copy, &m) == 0);
  CHECK(!stun_fingerprint_ok(copy, &m));
  CHECK(!stun_integrity_ok(copy, &m, password, strlen(password)));
}

static void round_trip(const struct sockaddr *sa, size_t sa_len) {
  uint8_t tid[STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  uint8_t out[256];
  size_t n = stun_build_binding_success(out, sizeof out, tid, sa, "secret", 6);
  CHECK(n > 0);
  stun_msg m;
  CHECK(stun_parse(out, n, &m) == 0);
  CHECK(m.type == STUN_BINDING_SUCCESS && memcmp(m.tid, tid, sizeof tid) == 0);
  CHECK(m.has_xor_mapped && memcmp(&m.xor_mapped, sa, sa_len) == 0);
  CHECK(stun_integrity_ok(out, &m, "secret", 6));
  CHECK(stun_fingerprint_ok(out, &m));
  CHECK(stun_build_binding_success(out, 40, tid, sa, "secret", 6) == 0);
}

static void test_round_trips(void) {
  struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(32853)};
  inet_pton(AF_INET, "192.0.2.1", &v4.sin_addr);
  round_trip((struct sockaddr *)&v4, sizeof v4);
  struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(32853)};
  inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &v6.sin6_addr);
  round_trip((struct sockaddr *)&v6, sizeof v6);

  /* A dual-stack port's IPv4 peer, ::ffff:192.0.2.1, learns 192.0.2.1 (family 1). */
  struct sockaddr_in6 mapped = {.sin6_family = AF_INET6, .sin6_port = htons(32853)};
  inet_pton(AF_INET6, "::ffff:192.0.2.1", &mapped.sin6_addr);
  uint8_t tid[STUN_TID_LEN] = {0};
  uint8_t out[256];
  stun_msg m;
  size_t n = stun_build_binding_success(out, sizeof out, tid, (struct sockaddr *)&mapped,
                                        "secret", 6);
  CHECK(n > 0 && stun_parse(out, n, &m) == 0 && m.has_xor_mapped);
  CHECK(memcmp(&m.xor_mapped, &v4, sizeof v4) == 0);

  n = stun_build_binding_error(out, sizeof out, tid, 401, "Unauthorized");
  CHECK(n > 0 && stun_parse(out, n, &m) == 0);
  CHECK(m.type == STUN_BINDING_ERROR && m.error_code == 401);
  CHECK(stun_fingerprint_ok(out, &m));
}

static void test_malformed(void) {
  stun_msg m;
  uint8_t b[sizeof sample_request];
  memcpy(b, sample_request, sizeof b);
  CHECK(stun_parse(b, sizeof b - 4, &m) == -1); /* length field disagrees */
  b[3] = 0x59;                                  /* length not a multiple of 4 */
  CHECK(stun_parse(b, sizeof b, &m) == -1);
  memcpy(b, sample_request, sizeof b);
  b[4] = 0; /* no magic cookie */
  CHECK(stun_parse(b, sizeof b, &m) == -1);
  memcpy(b, sample_request, sizeof b);
  b[22] = 0x7f; /* SOFTWARE runs past the end */
  CHECK(stun_parse(b, sizeof b, &m) == -1);
  memcpy(b, sample_request, sizeof b);
  b[0] = 0x80; /* RTP/DTLS range, not STUN */
  CHECK(!stun_looks_like(b, sizeof b));
  CHECK(stun_parse(b, 10, &m) == -1);
}

static void test_request_builder(void) {
  uint8_t tid[STUN_TID_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
  uint8_t out[256];
  size_t n = stun_build_binding_request(out, sizeof out, tid, "srv1:cli2", 0x6e0001ff,
                                        0x1122334455667788ULL, true, "pass", 4);
  stun_msg m;
  CHECK(n > 0 && stun_parse(out, n, &m) == 0);
  CHECK(m.type == STUN_BINDING_REQUEST && m.use_candidate && m.ice_controlling);
  CHECK(m.username_len == 9 && memcmp(m.username, "srv1:cli2", 9) == 0);
  CHECK(m.priority == 0x6e0001ff && m.tie_breaker == 0x1122334455667788ULL);
  CHECK(stun_integrity_ok(out, &m, "pass", 4) && stun_fingerprint_ok(out, &m));
  CHECK(stun_build_binding_request(out, 40, tid, "srv1:cli2", 1, 1, false, "p", 1) == 0);
}

int main(void) {
  test_sample_request();
  test_request_builder();
  test_round_trips();
  test_malformed();
  CHECK_DONE();
}
