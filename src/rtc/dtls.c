/* dtls — OpenSSL DTLS 1.2 server sessions over memory, for DTLS-SRTP. */
#include "rtc/dtls.h"

#include "core/ids.h"
#include "core/mem.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DTLS_MTU 1200 /* leaves room for IP/UDP headers and TURN on any path */
/* Our handshake retransmission timer: the first wait, doubled after each timeout up to
 * OpenSSL's own ceiling. OpenSSL starts at 1 s (RFC 6347 §4.2.4.1), and its server does
 * not answer a retransmitted ClientHello: a lost flight 2 waited 1 s, two of them 3 s,
 * whatever the browser's own timer (WebRTC: twice the ICE RTT, at least 50 ms). */
#define DTLS_FIRST_TIMEOUT_US 100000u
#define DTLS_MAX_TIMEOUT_US 60000000u

struct dtls_context {
  SSL_CTX *ssl_ctx;
  EVP_PKEY *key;
  X509 *cert;
  BIO_METHOD *datagram_bio;
  char fingerprint[128];
};

struct dtls {
  dtls_context *ctx;
  SSL *ssl;
  bool client;
  bool released;   /* the record buffers were freed after the handshake */
  unsigned resent; /* flights resent on our timer */
  dtls_state state;
  char peer_fingerprint[128];
  dtls_send_cb send;
  void *ud;
  dtls_app_cb on_app;
  void *app_ud;
  char error[160];
};

static int fingerprint_of(X509 *cert, char *out, size_t outlen) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!X509_digest(cert, EVP_sha256(), md, &n) || outlen < 8 + n * 3)
    return -1;
  size_t at = (size_t)snprintf(out, outlen, "sha-256 ");
  for (unsigned int i = 0; i < n; i++)
    at += (size_t)snprintf(out + at, outlen - at, i ? ":%02X" : "%02X", md[i]);
  return 0;
}

static X509 *self_signed(EVP_PKEY *key) {
  X509 *x = X509_new();
  uint32_t serial;
  ids_random(&serial, sizeof serial);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(serial >> 1));
  X509_gmtime_adj(X509_getm_notBefore(x), -86400);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"parley",
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (!X509_sign(x, key, EVP_sha256())) {
    X509_free(x);
    return NULL;
  }
  return x;
}

/* Outgoing records go straight to the transport, one BIO write per datagram, so
 * OpenSSL's own MTU-sized datagrams keep their boundaries. */
static int datagram_write(BIO *b, const char *data, int len) {
  dtls *d = BIO_get_data(b);
  if (d && len > 0)
    d->send(d->ud, (const uint8_t *)data, (size_t)len);
  return len;
}

static long datagram_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b, (void)num, (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return DTLS_MTU;
  default:
    return 0;
  }
}

static int datagram_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

/* Browsers use self-signed certificates: trust comes from the SDP fingerprint,
 * checked once the handshake is done. */
static int accept_any_certificate(int ok, X509_STORE_CTX *store) {
  (void)ok, (void)store;
  return 1;
}

static int make_ssl_ctx(dtls_context *c, const char *profiles) {
  c->ssl_ctx = SSL_CTX_new(DTLS_method()); /* each session picks its role */
  return c->ssl_ctx && SSL_CTX_set_min_proto_version(c->ssl_ctx, DTLS1_2_VERSION) &&
                 SSL_CTX_use_certificate(c->ssl_ctx, c->cert) &&
                 SSL_CTX_use_PrivateKey(c->ssl_ctx, c->key) &&
                 SSL_CTX_set_tlsext_use_srtp(c->ssl_ctx, profiles) == 0 /* 0 is success */
             ? 0
             : -1;
}

dtls_context *dtls_context_new(const char *profiles, char *err, size_t errlen) {
  dtls_context *c = xcalloc(1, sizeof *c);
  c->key = EVP_EC_gen("P-256");
  c->cert = c->key ? self_signed(c->key) : NULL;
  if (!c->cert || fingerprint_of(c->cert, c->fingerprint, sizeof c->fingerprint) != 0 ||
      make_ssl_ctx(c, profiles) != 0) {
    snprintf(err, errlen, "cannot set up DTLS (profiles \"%s\"): %s", profiles,
             ERR_reason_error_string(ERR_get_error()));
    dtls_context_free(c);
    return NULL;
  }
  SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     accept_any_certificate);
  SSL_CTX_set_read_ahead(c->ssl_ctx, 1);
  c->datagram_bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "datagram");
  BIO_meth_set_write(c->datagram_bio, datagram_write);
  BIO_meth_set_ctrl(c->datagram_bio, datagram_ctrl);
  BIO_meth_set_create(c->datagram_bio, datagram_create);
  return c;
}

void dtls_context_free(dtls_context *c) {
  if (!c)
    return;
  SSL_CTX_free(c->ssl_ctx);
  X509_free(c->cert);
  EVP_PKEY_free(c->key);
  BIO_meth_free(c->datagram_bio);
  free(c);
}

const char *dtls_context_fingerprint(const dtls_context *c) { return c->fingerprint; }

static unsigned int retransmit_timer(SSL *ssl, unsigned int previous_us) {
  (void)ssl;
  if (previous_us == 0)
    return DTLS_FIRST_TIMEOUT_US; /* a new flight */
  return previous_us >= DTLS_MAX_TIMEOUT_US / 2 ? DTLS_MAX_TIMEOUT_US : previous_us * 2;
}

static dtls *session_new(dtls_context *ctx, const char *peer_fingerprint,
                         dtls_send_cb send, void *ud, bool client) {
  dtls *d = xcalloc(1, sizeof *d);
  d->ctx = ctx;
  d->send = send;
  d->ud = ud;
  snprintf(d->peer_fingerprint, sizeof d->peer_fingerprint, "%s", peer_fingerprint);
  d->ssl = SSL_new(ctx->ssl_ctx);
  BIO *rbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);
  BIO *wbio = BIO_new(ctx->datagram_bio);
  BIO_set_data(wbio, d);
  SSL_set_bio(d->ssl, rbio, wbio);
  SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(d->ssl, DTLS_MTU);
  DTLS_set_timer_cb(d->ssl, retransmit_timer);
  d->client = client;
  if (client)
    SSL_set_connect_state(d->ssl);
  else
    SSL_set_accept_state(d->ssl);
  d->state = DTLS_HANDSHAKING;
  return d;
}

dtls *dtls_new(dtls_context *ctx, const char *peer_fingerprint, dtls_send_cb send,
               void *ud) {
  return session_new(ctx, peer_fingerprint, send, ud, false);
}

dtls *dtls_new_client(dtls_context *ctx, const char *peer_fingerprint, dtls_send_cb send,
                      void *ud) {
  return session_new(ctx, peer_fingerprint, send, ud, true);
}

void dtls_start_client(dtls *d) {
  if (SSL_do_handshake(d->ssl) <= 0)
    ERR_clear_error(); /* WANT_READ: the ClientHello went out */
}

void dtls_free(dtls *d) {
  if (!d)
    return;
  SSL_free(d->ssl);
  free(d);
}

static dtls_state fail(dtls *d, const char *why) {
  unsigned long e = ERR_get_error();
  snprintf(d->error, sizeof d->error, "%s%s%s", why, e ? ": " : "",
           e ? ERR_reason_error_string(e) : "");
  ERR_clear_error();
  return d->state = DTLS_FAILED;
}

/* Once connected, DTLS-SRTP carries no more DTLS records but a close_notify each way
 * (SRTP bypasses it), yet OpenSSL 3.0 keeps its two record buffers (16.6 KiB each) for
 * the call's life: 33 KiB of what a video publisher cost (issue 13). SSL_free_buffers
 * drops them once connected. DTLS's record writer (do_dtls1_write) writes into
 * wbuf[0] as it finds it, while its reader (dtls1_read_bytes) sets both buffers up when
 * they are gone, so an SSL_read on the empty input is made before SSL_shutdown writes
 * its alert; a record read later (the peer's close_notify, or a retransmitted last
 * flight of the browser, which OpenSSL answers by resending ours) goes through
 * SSL_read, and the buffers are dropped again after it. An earlier try that freed them
 * crashed in SSL_shutdown; on OpenSSL 3.0.19 test_dtls_srtp's close_notify was written
 * even without the read first, so the read is a guard (it costs one call per close)
 * for versions whose writer takes the freed buffer as it is. */
static void release_buffers(dtls *d) {
  if (!d->released && SSL_free_buffers(d->ssl))
    d->released = true;
}

static void restore_buffers(dtls *d) {
  if (!d->released)
    return;
  uint8_t none[1];
  SSL_read(d->ssl, none, sizeof none); /* nothing buffered: WANT_READ, buffers made */
  ERR_clear_error();
  d->released = false;
}

static dtls_state check_peer(dtls *d) {
  X509 *peer = SSL_get1_peer_certificate(d->ssl);
  char got[128];
  bool ok = peer && fingerprint_of(peer, got, sizeof got) == 0 &&
            strcasecmp(got, d->peer_fingerprint) == 0;
  X509_free(peer);
  if (!ok)
    return fail(d, "peer certificate does not match the SDP fingerprint");
  if (!SSL_get_selected_srtp_profile(d->ssl))
    return fail(d, "no SRTP profile negotiated (use_srtp)");
  release_buffers(d);
  return d->state = DTLS_CONNECTED;
}

size_t dtls_record_check(const uint8_t *data, size_t len, size_t *skip) {
  if (len < DTLS_RECORD_HEADER) {
    *skip = len; /* nothing after a cut header can be found */
    return 0;
  }
  size_t body = (size_t)data[11] << 8 | data[12];
  if (DTLS_RECORD_HEADER + body > len) {
    *skip = len;
    return 0;
  }
  *skip = DTLS_RECORD_HEADER + body;
  unsigned type = data[0], epoch = (unsigned)data[3] << 8 | data[4];
  bool type_ok = type >= 20 && type <= 23 && !(type == 23 && epoch == 0);
  bool version_ok = data[1] == 0xfe && (data[2] == 0xff || data[2] == 0xfd);
  return type_ok && version_ok ? *skip : 0;
}

/* RFC 6347 §4.1.2.7: an invalid record is silently discarded. OpenSSL ends the handshake
 * on an unknown content type or epoch-0 application data ("unexpected record"), so each
 * record is checked here and only the valid ones reach it. Returns how many went in. */
static size_t feed_valid_records(dtls *d, const uint8_t *data, size_t len) {
  size_t fed = 0, skip;
  for (size_t at = 0; at < len; at += skip) {
    size_t n = dtls_record_check(data + at, len - at, &skip);
    if (n) {
      BIO_write(SSL_get_rbio(d->ssl), data + at, (int)n);
      fed++;
    }
  }
  return fed;
}

void dtls_set_app_handler(dtls *d, dtls_app_cb cb, void *ud) {
  d->on_app = cb;
  d->app_ud = ud;
}

int dtls_send_app(dtls *d, const uint8_t *data, size_t len) {
  restore_buffers(d);
  if (d->state != DTLS_CONNECTED || len == 0 || len > INT32_MAX)
    return -1;
  int rc = SSL_write(d->ssl, data, (int)len);
  if (rc <= 0) {
    ERR_clear_error();
    return -1;
  }
  return 0;
}

/* Connected: application data (SCTP) and alerts (close_notify); SRTP bypasses DTLS. */
static dtls_state read_records(dtls *d) {
  static _Thread_local uint8_t plain[16384 + 256]; /* one record's plaintext */
  for (;;) {
    int rc = SSL_read(d->ssl, plain, sizeof plain);
    if (rc > 0) {
      if (d->on_app)
        d->on_app(d->app_ud, plain, (size_t)rc);
      if (d->state != DTLS_CONNECTED)
        break; /* closed from the handler */
      continue;
    }
    if (SSL_get_error(d->ssl, rc) == SSL_ERROR_ZERO_RETURN)
      d->state = DTLS_CLOSED;
    break;
  }
  ERR_clear_error();
  return d->state;
}

dtls_state dtls_receive(dtls *d, const uint8_t *data, size_t len) {
  if (d->state == DTLS_FAILED || d->state == DTLS_CLOSED)
    return d->state;
  if (feed_valid_records(d, data, len) == 0)
    return d->state;
  if (d->state == DTLS_HANDSHAKING) {
    int rc = SSL_do_handshake(d->ssl);
    if (rc == 1)
      return check_peer(d); /* records after the Finished wait for the next datagram */
    int e = SSL_get_error(d->ssl, rc);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
      return fail(d, "handshake failed");
    return d->state;
  }
  d->released = false; /* SSL_read makes the buffers again */
  dtls_state s = read_records(d);
  /* Without data channels only alerts arrive here, so the buffers go again. With them
   * SCTP keeps arriving: freeing and making 33 KiB per packet would cost more than the
   * memory it saves, so they stay (dtls_set_app_handler). */
  if (s == DTLS_CONNECTED && !d->on_app)
    release_buffers(d);
  return s;
}

dtls_state dtls_get_state(const dtls *d) { return d->state; }

long dtls_timeout_ms(dtls *d) {
  struct timeval tv;
  if (d->state != DTLS_HANDSHAKING || DTLSv1_get_timeout(d->ssl, &tv) != 1)
    return -1;
  return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

bool dtls_on_timeout(dtls *d) {
  if (d->state != DTLS_HANDSHAKING)
    return false;
  long rc = DTLSv1_handle_timeout(d->ssl);
  if (rc < 0) {
    fail(d, "handshake timed out");
    return false;
  }
  if (rc > 0)
    d->resent++;
  return rc > 0;
}

unsigned dtls_resent(const dtls *d) { return d->resent; }

void dtls_close(dtls *d) {
  if (d->state == DTLS_CONNECTED) {
    restore_buffers(d);
    SSL_shutdown(d->ssl);
  }
  d->state = DTLS_CLOSED;
}

const char *dtls_error(const dtls *d) { return d->error; }

int dtls_srtp_keys_get(dtls *d, dtls_srtp_keys *keys) {
  SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  if (d->state != DTLS_CONNECTED || !p)
    return -1;
  memset(keys, 0, sizeof *keys);
  keys->profile = (dtls_srtp_profile)p->id;
  keys->key_len = 16;
  keys->salt_len = p->id == SRTP_AEAD_AES_128_GCM ? 12 : 14;
  size_t k = keys->key_len, s = keys->salt_len;
  uint8_t material[2 * DTLS_MAX_KEY_SALT];
  static const char label[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(d->ssl, material, 2 * (k + s), label, sizeof label - 1,
                                 NULL, 0, 0) != 1)
    return -1;
  /* RFC 5764 §4.2: client key, server key, client salt, server salt. */
  uint8_t *client = d->client ? keys->local : keys->remote;
  uint8_t *server = d->client ? keys->remote : keys->local;
  memcpy(client, material, k);
  memcpy(server, material + k, k);
  memcpy(client + k, material + 2 * k, s);
  memcpy(server + k, material + 2 * k + s, s);
  return 0;
}
