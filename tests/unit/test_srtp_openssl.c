/* test_srtp_openssl — our OpenSSL cipher and auth types against the ones libsrtp was
 * built with: the same keys must give byte-identical SRTP and SRTCP, each side must
 * open the other's packets, and a changed byte must fail authentication. */
#include "check.h"
#include "rtc/srtp_openssl.h"

#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PACKETS 40
#define ROOM (1200 + SRTP_MAX_TRAILER_LEN)

typedef void (*policy_fn)(srtp_crypto_policy_t *);
typedef struct {
  const char *name;
  policy_fn set;
} suite;

/* Every cipher we replace: AES-CM 128 and 256 with HMAC-SHA1, AES-GCM 128 and 256. */
static const suite suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default},
    {"AES_CM_256_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
    {"AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth},
    {"AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth},
};
#define SUITES (sizeof suites / sizeof suites[0])

typedef struct {
  uint8_t data[ROOM];
  int len;
} packet;

static packet plain[PACKETS], rtcp_plain[PACKETS];
static packet built_in[SUITES][PACKETS], built_in_rtcp[SUITES][PACKETS];

static srtp_t session(const suite *s, srtp_ssrc_type_t direction) {
  srtp_policy_t p;
  memset(&p, 0, sizeof p);
  s->set(&p.rtp);
  s->set(&p.rtcp);
  static uint8_t key[64];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(i * 13 + 7);
  p.key = key;
  p.ssrc.type = direction;
  p.window_size = 1024;
  srtp_t out = NULL;
  CHECK(srtp_create(&out, &p) == srtp_err_status_ok);
  return out;
}

/* RTP of varied sizes (1..1,150 bytes of payload, some with a header extension), and
 * RTCP receiver reports of varied sizes. */
static void make_plaintexts(void) {
  for (int i = 0; i < PACKETS; i++) {
    packet *p = &plain[i];
    bool ext = i % 3 == 0;
    p->data[0] = ext ? 0x90 : 0x80;
    p->data[1] = 96;
    p->data[2] = (uint8_t)(i >> 8), p->data[3] = (uint8_t)i;
    memset(p->data + 4, i, 4);
    p->data[8] = 0x11, p->data[9] = 0x22, p->data[10] = 0x33, p->data[11] = 0x44;
    int at = 12;
    if (ext) { /* one-byte header extension, one word */
      memcpy(p->data + at, "\xbe\xde\x00\x01\x10\xff\x00\x00", 8);
      at += 8;
    }
    int payload = 1 + (i * 97) % 1150;
    for (int k = 0; k < payload; k++)
      p->data[at + k] = (uint8_t)(k * 31 + i);
    p->len = at + payload;

    packet *r = &rtcp_plain[i];
    int blocks = i % 4;
    r->len = 8 + 24 * blocks;
    r->data[0] = (uint8_t)(0x80 | blocks);
    r->data[1] = 201;
    r->data[2] = 0, r->data[3] = (uint8_t)(r->len / 4 - 1);
    r->data[4] = 0x11, r->data[5] = 0x22, r->data[6] = 0x33, r->data[7] = 0x44;
    for (int k = 8; k < r->len; k++)
      r->data[k] = (uint8_t)(k ^ i);
  }
}

static void protect_all(const suite *s, packet *rtp, packet *rtcp) {
  srtp_t out = session(s, ssrc_any_outbound);
  for (int i = 0; i < PACKETS; i++) {
    rtp[i] = plain[i];
    CHECK(srtp_protect(out, rtp[i].data, &rtp[i].len) == srtp_err_status_ok);
    rtcp[i] = rtcp_plain[i];
    CHECK(srtp_protect_rtcp(out, rtcp[i].data, &rtcp[i].len) == srtp_err_status_ok);
  }
  srtp_dealloc(out);
}

/* Opens what the other implementation sealed; a copy with one byte changed must fail. */
static void open_all(const suite *s, const packet *rtp, const packet *rtcp) {
  srtp_t in = session(s, ssrc_any_inbound), in2 = session(s, ssrc_any_inbound);
  for (int i = 0; i < PACKETS; i++) {
    packet forged = rtp[i];
    forged.data[forged.len / 2] ^= 0x01;
    CHECK(srtp_unprotect(in2, forged.data, &forged.len) == srtp_err_status_auth_fail);
    packet p = rtp[i];
    CHECK(srtp_unprotect(in, p.data, &p.len) == srtp_err_status_ok);
    CHECK(p.len == plain[i].len && memcmp(p.data, plain[i].data, (size_t)p.len) == 0);
    packet r = rtcp[i];
    CHECK(srtp_unprotect_rtcp(in, r.data, &r.len) == srtp_err_status_ok);
    CHECK(r.len == rtcp_plain[i].len &&
          memcmp(r.data, rtcp_plain[i].data, (size_t)r.len) == 0);
  }
  srtp_dealloc(in);
  srtp_dealloc(in2);
}

int main(void) {
  make_plaintexts();
  /* First with the types libsrtp was built with (NSS on Debian). */
  CHECK(srtp_init() == srtp_err_status_ok);
  CHECK(!srtp_openssl_installed());
  for (size_t k = 0; k < SUITES; k++)
    protect_all(&suites[k], built_in[k], built_in_rtcp[k]);

  /* Then ours, which libsrtp accepts only after its own known-answer tests and ours. */
  CHECK(srtp_openssl_install() == 0);
  CHECK(srtp_openssl_installed());
  for (size_t k = 0; k < SUITES; k++) {
    packet ours[PACKETS], ours_rtcp[PACKETS];
    protect_all(&suites[k], ours, ours_rtcp);
    int same = 0;
    for (int i = 0; i < PACKETS; i++)
      same += ours[i].len == built_in[k][i].len &&
              memcmp(ours[i].data, built_in[k][i].data, (size_t)ours[i].len) == 0 &&
              ours_rtcp[i].len == built_in_rtcp[k][i].len &&
              memcmp(ours_rtcp[i].data, built_in_rtcp[k][i].data,
                     (size_t)ours_rtcp[i].len) == 0;
    if (same != PACKETS)
      fprintf(stderr, "%s: %d of %d packets identical\n", suites[k].name, same, PACKETS);
    CHECK(same == PACKETS);
    open_all(&suites[k], built_in[k], built_in_rtcp[k]);
  }
  CHECK_DONE();
}
