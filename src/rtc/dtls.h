/* dtls — DTLS 1.2 for DTLS-SRTP (RFC 5764) with OpenSSL over memory: our ECDSA P-256
 * identity, the server-side handshake of one transport, peer fingerprint check, SRTP
 * keys. */
#ifndef PARLEY_DTLS_H
#define PARLEY_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DTLS_MAX_KEY_SALT 46 /* master key + salt of the largest profile we offer */

typedef struct dtls_context dtls_context;
typedef struct dtls dtls;

typedef enum {
  DTLS_SRTP_AES128_CM_SHA1_80 = 1,
  DTLS_SRTP_AEAD_AES_128_GCM = 7
} dtls_srtp_profile;

/* Creates our identity (key and self-signed certificate) and the OpenSSL context.
 * profiles is an OpenSSL use_srtp list in our order of preference, e.g.
 * "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80". NULL with err on failure. */
dtls_context *dtls_context_new(const char *profiles, char *err, size_t errlen);
void dtls_context_free(dtls_context *ctx);
/* "sha-256 AB:CD:..." for a=fingerprint. */
const char *dtls_context_fingerprint(const dtls_context *ctx);

typedef void (*dtls_send_cb)(void *ud, const uint8_t *data, size_t len);

typedef enum { DTLS_HANDSHAKING, DTLS_CONNECTED, DTLS_FAILED, DTLS_CLOSED } dtls_state;

/* A server-side session for one transport; peer_fingerprint is the offer's
 * "sha-256 AB:..." value the client's certificate must match. */
dtls *dtls_new(dtls_context *ctx, const char *peer_fingerprint, dtls_send_cb send,
               void *ud);
/* A client-side session (load clients and tests play the browser with it); the
 * handshake starts with dtls_start_client. */
dtls *dtls_new_client(dtls_context *ctx, const char *peer_fingerprint, dtls_send_cb send,
                      void *ud);
/* Sends the ClientHello. */
void dtls_start_client(dtls *d);
void dtls_free(dtls *d);
/* DTLS record header: type, version (2), epoch (2), sequence (6), length (2). */
#define DTLS_RECORD_HEADER 13
/* Checks the record at the start of data (len bytes left in the datagram): returns its
 * size when it is one we would hand to the handshake (content type 20-23, never
 * application data in epoch 0, DTLS 1.0/1.2 version, length inside the datagram), else
 * 0. *skip is where the next record starts (len when the rest cannot be parsed). */
size_t dtls_record_check(const uint8_t *data, size_t len, size_t *skip);
/* Feeds one datagram; invalid records in it are discarded (RFC 6347 §4.1.2.7), never
 * fatal. Sends whatever the handshake answers. Returns the state. */
dtls_state dtls_receive(dtls *d, const uint8_t *data, size_t len);
dtls_state dtls_get_state(const dtls *d);
/* Milliseconds until the handshake wants dtls_on_timeout, or -1 if it needs none. The
 * first wait of each flight is 100 ms, doubled after each timeout (OpenSSL's is 1 s). */
long dtls_timeout_ms(dtls *d);
/* Resends our last flight if its timer ran out; true when it did. */
bool dtls_on_timeout(dtls *d);
/* Flights resent on our timer so far. */
unsigned dtls_resent(const dtls *d);
/* Application data (SCTP packets of data channels, RFC 8261) received once connected
 * goes to cb, one record at a time, outside any OpenSSL call. */
typedef void (*dtls_app_cb)(void *ud, const uint8_t *data, size_t len);
void dtls_set_app_handler(dtls *d, dtls_app_cb cb, void *ud);
/* Sends len bytes as one application data record (one datagram). 0, or -1 when not
 * connected or OpenSSL refuses. */
int dtls_send_app(dtls *d, const uint8_t *data, size_t len);
/* Sends close_notify. */
void dtls_close(dtls *d);
/* Why the handshake failed, for logs. */
const char *dtls_error(const dtls *d);

typedef struct {
  dtls_srtp_profile profile;
  uint8_t local[DTLS_MAX_KEY_SALT];  /* our sending key then salt */
  uint8_t remote[DTLS_MAX_KEY_SALT]; /* the peer's sending key then salt */
  size_t key_len, salt_len;
} dtls_srtp_keys;

/* After DTLS_CONNECTED: the negotiated profile and keys from the exporter, as
 * "local" (what this side sends with) and "remote", for either role. */
int dtls_srtp_keys_get(dtls *d, dtls_srtp_keys *keys);

#endif
