/* ice_lite — ICE-lite: credentials, request checks, nomination, consent freshness. */
#include "rtc/ice_lite.h"

#include "core/ids.h"

#include <netinet/in.h>

#include <string.h>

static const char ice_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void random_ice_string(char *out, size_t len) {
  uint8_t bytes[64];
  ids_random(bytes, len);
  for (size_t i = 0; i < len; i++)
    out[i] = ice_chars[bytes[i] & 63];
  out[len] = '\0';
}

void ice_lite_new_credentials(ice_lite *ice) {
  random_ice_string(ice->local_ufrag, ICE_UFRAG_LEN);
  random_ice_string(ice->local_pwd, ICE_PWD_LEN);
  /* A restart starts over: the peer must nominate again (RFC 8445 §9). */
  ice->has_selected = ice->nominated = false;
  ice->remote_ufrag[0] = '\0';
}

int ice_lite_set_remote(ice_lite *ice, const char *ufrag) {
  size_t n = strlen(ufrag);
  if (n < 4 || n > ICE_REMOTE_MAX || strspn(ufrag, ice_chars) != n)
    return -1;
  memcpy(ice->remote_ufrag, ufrag, n + 1);
  return 0;
}

const char *ice_lite_addressed_ufrag(const stun_msg *msg, size_t *len) {
  if (!msg->username)
    return NULL;
  const char *colon = memchr(msg->username, ':', msg->username_len);
  if (!colon || colon == msg->username)
    return NULL;
  *len = (size_t)(colon - msg->username);
  return msg->username;
}

static bool username_matches(const ice_lite *ice, const stun_msg *msg) {
  size_t local = strlen(ice->local_ufrag), remote = strlen(ice->remote_ufrag);
  if (msg->username_len != local + 1 + remote)
    return false;
  const char *u = msg->username;
  /* The remote part is unknown until the offer's ufrag is set: accept any then. */
  return memcmp(u, ice->local_ufrag, local) == 0 && u[local] == ':' &&
         (remote == 0 || memcmp(u + local + 1, ice->remote_ufrag, remote) == 0);
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr *b) {
  if (a->ss_family != b->sa_family)
    return false;
  size_t n =
      b->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  return memcmp(a, b, n) == 0;
}

ice_outcome ice_lite_on_request(ice_lite *ice, const uint8_t *pkt, const stun_msg *msg,
                                const struct sockaddr *from, uint64_t now_ms,
                                uint8_t *reply, size_t cap, size_t *reply_len) {
  return ice_lite_on_request_via(ice, pkt, msg, from, NULL, now_ms, reply, cap,
                                 reply_len);
}

ice_outcome ice_lite_on_request_via(ice_lite *ice, const uint8_t *pkt,
                                    const stun_msg *msg, const struct sockaddr *from,
                                    const void *via, uint64_t now_ms, uint8_t *reply,
                                    size_t cap, size_t *reply_len) {
  *reply_len = 0;
  /* FINGERPRINT tells STUN from other traffic on the shared port (RFC 8445 §7.3). */
  if (msg->type != STUN_BINDING_REQUEST ||
      (msg->fingerprint_at && !stun_fingerprint_ok(pkt, msg))) {
    ice->requests_refused++;
    return ICE_DROPPED;
  }
  if (!msg->username || !msg->integrity_at) {
    *reply_len = stun_build_binding_error(reply, cap, msg->tid, 400, "Bad Request");
    ice->requests_refused++;
    return ICE_ANSWERED;
  }
  if (!username_matches(ice, msg) ||
      !stun_integrity_ok(pkt, msg, ice->local_pwd, strlen(ice->local_pwd))) {
    *reply_len = stun_build_binding_error(reply, cap, msg->tid, 401, "Unauthorized");
    ice->requests_refused++;
    return ICE_ANSWERED;
  }
  *reply_len = stun_build_binding_success(reply, cap, msg->tid, from, ice->local_pwd,
                                          strlen(ice->local_pwd));
  ice->requests_ok++;
  bool on_selected =
      ice->has_selected && ice->selected_via == via && same_address(&ice->selected, from);
  if (on_selected) {
    ice->last_consent_ms = now_ms;
    ice->nominated |= msg->use_candidate;
    return ICE_ANSWERED;
  }
  /* RFC 8445 §12.1: data may go on a valid pair before one is selected. The first path
   * that passed a check carries media until the peer nominates one: Chromium nominates
   * an ICE-lite peer's pair only at its next check, 50-80 ms later (join_time). */
  if (!msg->use_candidate && ice->has_selected)
    return ICE_ANSWERED;
  size_t n = from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in);
  memset(&ice->selected, 0, sizeof ice->selected);
  memcpy(&ice->selected, from, n);
  ice->selected_via = via;
  ice->has_selected = true;
  ice->nominated = msg->use_candidate;
  ice->last_consent_ms = now_ms;
  return ice->nominated ? ICE_NOMINATED : ICE_SELECTED;
}

bool ice_lite_consent_expired(const ice_lite *ice, uint64_t now_ms, uint64_t timeout_ms) {
  return ice->has_selected && now_ms - ice->last_consent_ms >= timeout_ms;
}
