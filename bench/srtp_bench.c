/* srtp_bench — cost of protect + unprotect of 1,200-byte RTP packets on one core: raw
 * libsrtp2 with its built-in crypto, with our OpenSSL types, and through srtp_session. */
#include "rtc/srtp_openssl.h"
#include "rtc/srtp_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PACKET 1200
#define ROUNDS 1000000

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_packet(uint8_t *p, uint16_t seq) {
  memset(p, 0xab, PACKET);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = (uint8_t)(seq >> 8);
  p[3] = (uint8_t)seq;
  memset(p + 4, 0, 4);
  p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78;
}

static double run_parley(dtls_srtp_profile profile) {
  dtls_srtp_keys a = {.profile = profile,
                      .key_len = 16,
                      .salt_len = profile == DTLS_SRTP_AEAD_AES_128_GCM ? 12 : 14};
  for (size_t i = 0; i < DTLS_MAX_KEY_SALT; i++)
    a.local[i] = (uint8_t)i, a.remote[i] = (uint8_t)(i * 7);
  dtls_srtp_keys b = a;
  memcpy(b.local, a.remote, sizeof b.local);
  memcpy(b.remote, a.local, sizeof b.remote);
  srtp_session tx, rx;
  if (srtp_session_init(&tx, &a) || srtp_session_init(&rx, &b))
    abort();
  uint8_t pkt[PACKET + SRTP_SESSION_OVERHEAD];
  double t0 = now_s();
  for (int i = 0; i < ROUNDS; i++) {
    make_packet(pkt, (uint16_t)i);
    int len = PACKET;
    if (srtp_session_protect_rtp(&tx, pkt, &len) ||
        srtp_session_unprotect_rtp(&rx, pkt, &len))
      abort();
  }
  double per = (now_s() - t0) / ROUNDS;
  srtp_session_free(&tx);
  srtp_session_free(&rx);
  return per;
}

static double run_raw(srtp_profile_t profile) {
  srtp_policy_t p;
  memset(&p, 0, sizeof p);
  srtp_crypto_policy_set_from_profile_for_rtp(&p.rtp, profile);
  srtp_crypto_policy_set_from_profile_for_rtcp(&p.rtcp, profile);
  uint8_t key[46];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)i;
  p.key = key;
  p.window_size = 1024;
  srtp_t tx, rx;
  p.ssrc.type = ssrc_any_outbound;
  srtp_create(&tx, &p);
  p.ssrc.type = ssrc_any_inbound;
  srtp_create(&rx, &p);
  uint8_t pkt[PACKET + SRTP_MAX_TRAILER_LEN];
  double t0 = now_s();
  for (int i = 0; i < ROUNDS; i++) {
    make_packet(pkt, (uint16_t)i);
    int len = PACKET;
    if (srtp_protect(tx, pkt, &len) || srtp_unprotect(rx, pkt, &len))
      abort();
  }
  double per = (now_s() - t0) / ROUNDS;
  srtp_dealloc(tx);
  srtp_dealloc(rx);
  return per;
}

int main(void) {
  /* libsrtp as its build made it first (on Debian: NSS), then with our OpenSSL types
   * installed, raw and through srtp_session. */
  if (srtp_init() != srtp_err_status_ok)
    return 1;
  struct {
    const char *name;
    dtls_srtp_profile ours;
    srtp_profile_t raw;
    double built_in;
  } cases[] = {
      {"AEAD_AES_128_GCM", DTLS_SRTP_AEAD_AES_128_GCM, srtp_profile_aead_aes_128_gcm, 0},
      {"AES_CM_128_HMAC_SHA1_80", DTLS_SRTP_AES128_CM_SHA1_80,
       srtp_profile_aes128_cm_sha1_80, 0}};
  for (size_t i = 0; i < 2; i++)
    cases[i].built_in = run_raw(cases[i].raw);
  if (srtp_openssl_install() != 0)
    return fprintf(stderr, "the OpenSSL types were refused\n"), 1;
  printf("SRTP protect+unprotect of %d-byte RTP packets, %d rounds, one core\n", PACKET,
         ROUNDS);
  printf("%-24s %18s %18s %14s %14s\n", "profile", "libsrtp built-in", "libsrtp+OpenSSL",
         "parley ns/pkt", "parley pkts/s");
  for (size_t i = 0; i < 2; i++) {
    double raw = run_raw(cases[i].raw), ours = run_parley(cases[i].ours);
    printf("%-24s %18.0f %18.0f %14.0f %14.0f\n", cases[i].name, cases[i].built_in * 1e9,
           raw * 1e9, ours * 1e9, 1 / ours);
  }
  return 0;
}
