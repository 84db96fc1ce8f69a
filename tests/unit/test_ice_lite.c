/* test_ice_lite — ICE-lite answers only authentic requests, sends on the first checked
 * path until the peer nominates one, moves to the path a USE-CANDIDATE request came on,
 * restarts with new credentials, and times out consent. */
#include "check.h"
#include "rtc/ice_lite.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* Builds a binding request as a controlling full agent (a browser) sends it. */
static size_t make_request(uint8_t *b, const char *username, const char *pwd,
                           bool use_candidate) {
  size_t at = 20, ulen = strlen(username);
  memset(b, 0, 200);
  wr16(b, STUN_BINDING_REQUEST);
  b[4] = 0x21, b[5] = 0x12, b[6] = 0xa4, b[7] = 0x42;
  for (int i = 0; i < 12; i++)
    b[8 + i] = (uint8_t)(i * 7);
  wr16(b + at, STUN_ATTR_USERNAME);
  wr16(b + at + 2, (uint16_t)ulen);
  memcpy(b + at + 4, username, ulen);
  at += 4 + ((ulen + 3) & ~3u);
  if (use_candidate) {
    wr16(b + at, STUN_ATTR_USE_CANDIDATE);
    at += 4;
  }
  wr16(b + 2, (uint16_t)(at + 24 - 20));
  unsigned int n = 20;
  HMAC(EVP_sha1(), pwd, (int)strlen(pwd), b, at, b + at + 4, &n);
  wr16(b + at, STUN_ATTR_MESSAGE_INTEGRITY);
  wr16(b + at + 2, 20);
  at += 24;
  wr16(b + 2, (uint16_t)(at + 8 - 20));
  uint32_t crc = (uint32_t)crc32(0, b, (uInt)at) ^ 0x5354554eu;
  wr16(b + at, STUN_ATTR_FINGERPRINT);
  wr16(b + at + 2, 4);
  wr16(b + at + 4, (uint16_t)(crc >> 16));
  wr16(b + at + 6, (uint16_t)crc);
  return at + 8;
}

int main(void) {
  ice_lite ice = {0};
  ice_lite_new_credentials(&ice);
  CHECK(strlen(ice.local_ufrag) == ICE_UFRAG_LEN && strlen(ice.local_pwd) == ICE_PWD_LEN);
  CHECK(ice_lite_set_remote(&ice, "abcd") == 0);
  CHECK(ice_lite_set_remote(&ice, "a b c") == -1);

  struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5000)};
  inet_pton(AF_INET, "127.0.0.1", &from.sin_addr);
  char username[64];
  snprintf(username, sizeof username, "%s:abcd", ice.local_ufrag);
  uint8_t req[200], reply[200];
  size_t reply_len, n = make_request(req, username, ice.local_pwd, false);
  stun_msg m;
  CHECK(stun_parse(req, n, &m) == 0);
  size_t ulen;
  const char *u = ice_lite_addressed_ufrag(&m, &ulen);
  CHECK(u && ulen == ICE_UFRAG_LEN && memcmp(u, ice.local_ufrag, ulen) == 0);
  /* The first path that passes a check carries media until one is nominated. */
  CHECK(ice_lite_on_request(&ice, req, &m, (struct sockaddr *)&from, 1000, reply,
                            sizeof reply, &reply_len) == ICE_SELECTED);
  stun_msg r;
  CHECK(reply_len > 0 && stun_parse(reply, reply_len, &r) == 0);
  CHECK(r.type == STUN_BINDING_SUCCESS && memcmp(r.tid, m.tid, 12) == 0);
  CHECK(stun_integrity_ok(reply, &r, ice.local_pwd, strlen(ice.local_pwd)));
  CHECK(ice.has_selected && !ice.nominated);
  /* Another path's check does not move it; a nomination does. */
  struct sockaddr_in other = from;
  other.sin_port = htons(5001);
  CHECK(ice_lite_on_request(&ice, req, &m, (struct sockaddr *)&other, 1100, reply,
                            sizeof reply, &reply_len) == ICE_ANSWERED);
  CHECK(ice.has_selected &&
        ((struct sockaddr_in *)&ice.selected)->sin_port == htons(5000));
  n = make_request(req, username, ice.local_pwd, true);
  stun_parse(req, n, &m);
  CHECK(ice_lite_on_request(&ice, req, &m, (struct sockaddr *)&other, 1200, reply,
                            sizeof reply, &reply_len) == ICE_NOMINATED);
  CHECK(ice.nominated && ((struct sockaddr_in *)&ice.selected)->sin_port == htons(5001));

  CHECK(ice_lite_on_request(&ice, req, &m, (struct sockaddr *)&from, 2000, reply,
                            sizeof reply, &reply_len) == ICE_NOMINATED);
  CHECK(ice.has_selected && !ice_lite_consent_expired(&ice, 31000, 30000));
  CHECK(ice_lite_consent_expired(&ice, 32000, 30000));

  /* The same address over a TCP connection is another path: nominating it moves media
   * there, and back to UDP likewise. */
  static int conn; /* any non-NULL pointer stands for a connection */
  n = make_request(req, username, ice.local_pwd, true);
  stun_parse(req, n, &m);
  CHECK(ice_lite_on_request_via(&ice, req, &m, (struct sockaddr *)&from, &conn, 2500,
                                reply, sizeof reply, &reply_len) == ICE_NOMINATED);
  CHECK(ice.selected_via == &conn);
  CHECK(ice_lite_on_request_via(&ice, req, &m, (struct sockaddr *)&from, &conn, 2600,
                                reply, sizeof reply, &reply_len) == ICE_ANSWERED);
  CHECK(ice_lite_on_request(&ice, req, &m, (struct sockaddr *)&from, 2700, reply,
                            sizeof reply, &reply_len) == ICE_NOMINATED);
  CHECK(ice.selected_via == NULL);

  n = make_request(req, username, "not-the-password-at-all", true);
  stun_parse(req, n, &m);
  CHECK(ice_lite_on_request(&ice, req, &m, (struct sockaddr *)&from, 3000, reply,
                            sizeof reply, &reply_len) == ICE_ANSWERED);
  stun_parse(reply, reply_len, &r);
  CHECK(r.type == STUN_BINDING_ERROR && r.error_code == 401);

  char old_pwd[ICE_PWD_LEN + 1];
  strcpy(old_pwd, ice.local_pwd);
  ice_lite_new_credentials(&ice); /* ICE restart */
  CHECK(!ice.has_selected && strcmp(old_pwd, ice.local_pwd) != 0);
  n = make_request(req, username, old_pwd, true);
  stun_parse(req, n, &m);
  ice_lite_on_request(&ice, req, &m, (struct sockaddr *)&from, 4000, reply, sizeof reply,
                      &reply_len);
  stun_parse(reply, reply_len, &r);
  CHECK(r.type == STUN_BINDING_ERROR && !ice.has_selected);
  CHECK_DONE();
}
