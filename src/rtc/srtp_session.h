/* srtp_session — libsrtp2 sessions for one transport: outbound protection with our
 * keys, inbound verification with the peer's, replay protection on, in place. */
#ifndef PARLEY_SRTP_SESSION_H
#define PARLEY_SRTP_SESSION_H

#include "rtc/dtls.h"

#include <srtp2/srtp.h>

/* Bytes srtp_session_protect may add to a packet (auth tag). */
#define SRTP_SESSION_OVERHEAD (SRTP_MAX_TRAILER_LEN + 4)

typedef struct {
  srtp_t out, in;
} srtp_session;

/* Once per process, before the first session. */
int srtp_session_global_init(void);
/* Returns 0, or -1 if libsrtp refuses the keys. */
int srtp_session_init(srtp_session *s, const dtls_srtp_keys *keys);
void srtp_session_free(srtp_session *s);

/* Each works in place; *len is updated. protect needs SRTP_SESSION_OVERHEAD bytes
 * of room after the packet. They return 0, or -1 (auth failure, replay, garbage). */
int srtp_session_protect_rtp(srtp_session *s, uint8_t *pkt, int *len);
int srtp_session_unprotect_rtp(srtp_session *s, uint8_t *pkt, int *len);
int srtp_session_protect_rtcp(srtp_session *s, uint8_t *pkt, int *len);
int srtp_session_unprotect_rtcp(srtp_session *s, uint8_t *pkt, int *len);

#endif
