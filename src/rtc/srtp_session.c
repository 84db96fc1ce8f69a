/* srtp_session — libsrtp2 inbound and outbound sessions from DTLS-SRTP keys. */
#include "rtc/srtp_session.h"

#include "core/log.h"
#include "rtc/srtp_openssl.h"

#include <pthread.h>
#include <string.h>

#define REPLAY_WINDOW 1024 /* packets; covers reordering at video rates */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_status = -1;

/* libsrtp's crypto kernel is process-wide: initialised, and given OpenSSL's ciphers,
 * once whichever media loop or tool gets here first. */
static void global_init_once(void) {
  if (srtp_init() != srtp_err_status_ok)
    return;
  global_status = 0;
  /* On failure libsrtp keeps its own types: slower, still SRTP. */
  if (srtp_openssl_install() != 0)
    log_warn("srtp", "OpenSSL ciphers refused by libsrtp's self-tests: using its own");
}

int srtp_session_global_init(void) {
  pthread_once(&global_once, global_init_once);
  return global_status;
}

static int create(srtp_t *out, srtp_profile_t profile, const uint8_t *key_salt,
                  srtp_ssrc_type_t direction) {
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  if (srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, profile) !=
          srtp_err_status_ok ||
      srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, profile) !=
          srtp_err_status_ok)
    return -1;
  uint8_t key[DTLS_MAX_KEY_SALT];
  memcpy(key, key_salt, sizeof key);
  policy.ssrc.type = direction;
  policy.key = key;
  policy.window_size = REPLAY_WINDOW;
  /* NACK answers resend cached packets with their original sequence numbers. */
  policy.allow_repeat_tx = 1;
  return srtp_create(out, &policy) == srtp_err_status_ok ? 0 : -1;
}

int srtp_session_init(srtp_session *s, const dtls_srtp_keys *keys) {
  memset(s, 0, sizeof *s);
  srtp_profile_t profile = keys->profile == DTLS_SRTP_AEAD_AES_128_GCM
                               ? srtp_profile_aead_aes_128_gcm
                               : srtp_profile_aes128_cm_sha1_80;
  if (create(&s->out, profile, keys->local, ssrc_any_outbound) != 0)
    return -1;
  if (create(&s->in, profile, keys->remote, ssrc_any_inbound) != 0) {
    srtp_dealloc(s->out);
    s->out = NULL;
    return -1;
  }
  return 0;
}

void srtp_session_free(srtp_session *s) {
  if (s->out)
    srtp_dealloc(s->out);
  if (s->in)
    srtp_dealloc(s->in);
  s->out = s->in = NULL;
}

int srtp_session_protect_rtp(srtp_session *s, uint8_t *pkt, int *len) {
  return srtp_protect(s->out, pkt, len) == srtp_err_status_ok ? 0 : -1;
}

int srtp_session_unprotect_rtp(srtp_session *s, uint8_t *pkt, int *len) {
  return srtp_unprotect(s->in, pkt, len) == srtp_err_status_ok ? 0 : -1;
}

int srtp_session_protect_rtcp(srtp_session *s, uint8_t *pkt, int *len) {
  return srtp_protect_rtcp(s->out, pkt, len) == srtp_err_status_ok ? 0 : -1;
}

int srtp_session_unprotect_rtcp(srtp_session *s, uint8_t *pkt, int *len) {
  return srtp_unprotect_rtcp(s->in, pkt, len) == srtp_err_status_ok ? 0 : -1;
}
