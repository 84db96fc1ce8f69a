/* ice_lite — one transport's ICE-lite agent (RFC 8445 §2.5): our credentials, checks
 * of the peer's binding requests, nomination of the path media uses, and consent.
 * Media may go on the first path that passed a check before the peer nominates one
 * (RFC 8445 §12.1). */
#ifndef PARLEY_ICE_LITE_H
#define PARLEY_ICE_LITE_H

#include "rtc/stun.h"

#define ICE_UFRAG_LEN 8 /* RFC 8839: at least 4 ice-chars */
#define ICE_UFRAG_MAX 32
#define ICE_PWD_LEN 24 /* RFC 8839: at least 22 ice-chars */
#define ICE_PWD_MAX 64
#define ICE_REMOTE_MAX 256

typedef struct {
  char local_ufrag[ICE_UFRAG_LEN + 1];
  char local_pwd[ICE_PWD_LEN + 1];
  char remote_ufrag[ICE_REMOTE_MAX + 1];
  bool has_selected;
  bool nominated;                   /* by the peer (USE-CANDIDATE) */
  struct sockaddr_storage selected; /* where media goes: the nominated path, or until
                                       then the first path that passed a check */
  const void *selected_via;         /* and over what: a TCP connection, NULL for UDP */
  uint64_t last_consent_ms;         /* last authenticated request on that path */
  uint64_t requests_ok, requests_refused;
} ice_lite;

/* Fresh random credentials; used at start and for an ICE restart. */
void ice_lite_new_credentials(ice_lite *ice);
/* The peer's ufrag from its SDP; 0, or -1 if it is not a valid ice-char string. */
int ice_lite_set_remote(ice_lite *ice, const char *ufrag);

/* The local ufrag a request is addressed to (USERNAME is "ours:theirs"), so the
 * port can find the transport; NULL if the request has no usable USERNAME. */
const char *ice_lite_addressed_ufrag(const stun_msg *msg, size_t *len);

typedef enum {
  ICE_DROPPED,   /* not for us or not authentic: say nothing */
  ICE_ANSWERED,  /* reply holds a response to send back to from */
  ICE_NOMINATED, /* as ANSWERED, and from is now the selected path */
  ICE_SELECTED,  /* as ANSWERED, and from is the selected path until one is nominated */
} ice_outcome;

/* Handles a parsed binding request that came from `from` at now_ms. */
ice_outcome ice_lite_on_request(ice_lite *ice, const uint8_t *pkt, const stun_msg *msg,
                                const struct sockaddr *from, uint64_t now_ms,
                                uint8_t *reply, size_t cap, size_t *reply_len);
/* The same for a request that came over a connection (via; NULL is UDP): a path is
 * its address and what carried it, so UDP and TCP from one address stay apart. */
ice_outcome ice_lite_on_request_via(ice_lite *ice, const uint8_t *pkt,
                                    const stun_msg *msg, const struct sockaddr *from,
                                    const void *via, uint64_t now_ms, uint8_t *reply,
                                    size_t cap, size_t *reply_len);
/* True once the selected path has been silent for timeout_ms (RFC 7675). */
bool ice_lite_consent_expired(const ice_lite *ice, uint64_t now_ms, uint64_t timeout_ms);

#endif
