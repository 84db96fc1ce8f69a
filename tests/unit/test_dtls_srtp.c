/* test_dtls_srtp — our DTLS server completes a real handshake with an OpenSSL client
 * in memory, honours our SRTP profile preference, rejects a wrong fingerprint, and its
 * exported keys protect and verify SRTP/SRTCP both ways, with replays refused. */
#include "check.h"
#include "rtc/dtls.h"
#include "rtc/srtp_openssl.h"
#include "rtc/srtp_session.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

typedef struct {
  uint8_t data[16384];
  size_t len;
} wire;

static void to_wire(void *ud, const uint8_t *data, size_t len) {
  wire *w = ud;
  if (w->len + len <= sizeof w->data) {
    memcpy(w->data + w->len, data, len);
    w->len += len;
  }
}

typedef struct {
  SSL_CTX *ctx;
  SSL *ssl;
  char fingerprint[128];
} client;

static void client_new(client *c, const char *profiles) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             (const unsigned char *)"browser", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_sign(x, key, EVP_sha256());
  unsigned char md[32];
  unsigned int n;
  X509_digest(x, EVP_sha256(), md, &n);
  size_t at = (size_t)snprintf(c->fingerprint, sizeof c->fingerprint, "sha-256 ");
  for (unsigned i = 0; i < n; i++)
    at += (size_t)snprintf(c->fingerprint + at, sizeof c->fingerprint - at,
                           i ? ":%02X" : "%02X", md[i]);
  c->ctx = SSL_CTX_new(DTLS_client_method());
  SSL_CTX_use_certificate(c->ctx, x);
  SSL_CTX_use_PrivateKey(c->ctx, key);
  SSL_CTX_set_tlsext_use_srtp(c->ctx, profiles);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
  c->ssl = SSL_new(c->ctx);
  BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(r, -1);
  SSL_set_bio(c->ssl, r, w);
  SSL_set_connect_state(c->ssl);
  X509_free(x);
  EVP_PKEY_free(key);
}

static void client_free(client *c) {
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
}

/* Runs the handshake to its end; returns the server's final state. */
/* RFC 6347 §4.1.2.7: invalid records are discarded, never fatal, so that anyone who can
 * spray datagrams at the port cannot kill a handshake. Each of these arrives between
 * the client's first and second flight. */
static const struct {
  const char *what;
  uint8_t bytes[40];
  size_t len;
} garbage[] = {
    {"too short for a header", {22, 0xfe, 0xfd, 0}, 4},
    {"content type 99",
     {99, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     21},
    {"version 1.7",
     {22, 0x01, 0x07, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     21},
    {"length past the datagram", {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 200, 1, 2, 3}, 14},
    {"handshake body of noise",
     {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 14, 0xff, 0xff, 0xff, 0xff, 0xee},
     18},
    {"alert of noise", {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 5, 9, 9, 9, 9, 9}, 16},
    {"application data in epoch 0",
     {23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 4, 1, 1, 1, 1, 1, 1, 1, 1},
     20},
    {"change cipher spec of noise",
     {20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 3, 7, 7, 7},
     14},
};

/* Runs the handshake between the client and server for up to ten rounds; with junk,
 * one malformed datagram reaches the server before the client's second flight. */
static dtls_state handshake_with_garbage(client *c, dtls *server, wire *from_server,
                                         const uint8_t *junk, size_t junk_len) {
  dtls_state st = DTLS_HANDSHAKING;
  for (int round = 0; round < 10 && st == DTLS_HANDSHAKING; round++) {
    SSL_do_handshake(c->ssl);
    uint8_t buf[16384];
    int n = BIO_read(SSL_get_wbio(c->ssl), buf, sizeof buf);
    if (round == 1 && junk)
      st = dtls_receive(server, junk, junk_len);
    if (n > 0 && st == DTLS_HANDSHAKING)
      st = dtls_receive(server, buf, (size_t)n);
    if (from_server->len) {
      BIO_write(SSL_get_rbio(c->ssl), from_server->data, (int)from_server->len);
      from_server->len = 0;
    }
  }
  SSL_do_handshake(c->ssl);
  return st;
}

static dtls_state handshake(client *c, dtls *server, wire *from_server) {
  return handshake_with_garbage(c, server, from_server, NULL, 0);
}

static void test_malformed_records(void) {
  char err[200];
  dtls_context *ctx = dtls_context_new("SRTP_AES128_CM_SHA1_80", err, sizeof err);
  for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
    client c;
    client_new(&c, "SRTP_AES128_CM_SHA1_80");
    wire from_server = {.len = 0};
    dtls *server = dtls_new(ctx, c.fingerprint, to_wire, &from_server);
    dtls_state st = handshake_with_garbage(&c, server, &from_server, garbage[i].bytes,
                                           garbage[i].len);
    if (st != DTLS_CONNECTED)
      fprintf(stderr, "%s: state %d (%s)\n", garbage[i].what, (int)st,
              dtls_error(server));
    CHECK(st == DTLS_CONNECTED && SSL_is_init_finished(c.ssl));
    dtls_free(server);
    client_free(&c);
  }
  dtls_context_free(ctx);
}

/* The server frees its record buffers once connected; it must still write a close_notify
 * the client reads, which is what crashed (SSL_shutdown) when the buffers were freed and
 * not made again, and read one more record after that. */
static void test_after_buffers_released(void) {
  char err[200];
  dtls_context *ctx = dtls_context_new("SRTP_AES128_CM_SHA1_80", err, sizeof err);
  for (int peer_closes = 0; peer_closes < 2; peer_closes++) {
    client c;
    client_new(&c, "SRTP_AES128_CM_SHA1_80");
    wire from_server = {.len = 0};
    dtls *server = dtls_new(ctx, c.fingerprint, to_wire, &from_server);
    CHECK(handshake(&c, server, &from_server) == DTLS_CONNECTED);
    CHECK(SSL_is_init_finished(c.ssl));
    from_server.len = 0;
    dtls_srtp_keys sk;
    CHECK(dtls_srtp_keys_get(server, &sk) == 0);
    if (peer_closes) { /* the browser's close_notify is read with the buffers made again
                        */
      SSL_shutdown(c.ssl);
      uint8_t buf[512];
      int n = BIO_read(SSL_get_wbio(c.ssl), buf, sizeof buf);
      CHECK(n > 0 && dtls_receive(server, buf, (size_t)n) == DTLS_CLOSED);
    } else {
      dtls_close(server);
      CHECK(from_server.len > 0);
      BIO_write(SSL_get_rbio(c.ssl), from_server.data, (int)from_server.len);
      uint8_t sink[64];
      int rc = SSL_read(c.ssl, sink, sizeof sink);
      CHECK(rc <= 0 && SSL_get_error(c.ssl, rc) == SSL_ERROR_ZERO_RETURN);
    }
    dtls_free(server);
    client_free(&c);
  }
  dtls_context_free(ctx);
}

static unsigned int client_timer(SSL *ssl, unsigned int previous_us) {
  (void)ssl, (void)previous_us;
  /* The browser's retransmission comes first (WebRTC: >= 50 ms). OpenSSL counts a
   * timer with less than 15 ms left as run out. */
  return 20000;
}

/* Our flight 2 is lost. OpenSSL's server does not answer the browser's retransmitted
 * ClientHello, so the flight is resent on our own timer, which must be short (100 ms,
 * not OpenSSL's 1 s); the handshake then completes. */
static void test_lost_flight(void) {
  char err[200];
  dtls_context *ctx = dtls_context_new("SRTP_AES128_CM_SHA1_80", err, sizeof err);
  client c;
  client_new(&c, "SRTP_AES128_CM_SHA1_80");
  DTLS_set_timer_cb(c.ssl, client_timer);
  wire from_server = {.len = 0};
  dtls *server = dtls_new(ctx, c.fingerprint, to_wire, &from_server);
  uint8_t buf[16384];
  SSL_do_handshake(c.ssl);
  int n = BIO_read(SSL_get_wbio(c.ssl), buf, sizeof buf);
  CHECK(n > 0 && dtls_receive(server, buf, (size_t)n) == DTLS_HANDSHAKING);
  CHECK(from_server.len > 0);
  from_server.len = 0; /* lost */
  long wait = dtls_timeout_ms(server);
  CHECK(wait > 0 && wait <= 100);
  CHECK(!dtls_on_timeout(server) && dtls_resent(server) == 0); /* not yet */
  usleep(25000);
  CHECK(DTLSv1_handle_timeout(c.ssl) > 0);
  n = BIO_read(SSL_get_wbio(c.ssl), buf, sizeof buf);
  CHECK(n > 0 && dtls_receive(server, buf, (size_t)n) == DTLS_HANDSHAKING);
  CHECK(from_server.len == 0); /* why the timer matters */
  usleep((useconds_t)dtls_timeout_ms(server) * 1000 + 1000);
  CHECK(dtls_timeout_ms(server) == 0);
  CHECK(dtls_on_timeout(server) && dtls_resent(server) == 1);
  CHECK(from_server.len > 0);
  long next = dtls_timeout_ms(server);
  CHECK(next > 100 && next <= 200); /* doubled */
  CHECK(handshake(&c, server, &from_server) == DTLS_CONNECTED);
  CHECK(SSL_is_init_finished(c.ssl) && dtls_timeout_ms(server) == -1);
  dtls_free(server);
  client_free(&c);
  dtls_context_free(ctx);
}

static void client_keys(client *c, dtls_srtp_keys *keys, size_t salt_len) {
  uint8_t m[2 * DTLS_MAX_KEY_SALT];
  size_t k = 16, s = salt_len;
  SSL_export_keying_material(c->ssl, m, 2 * (k + s), "EXTRACTOR-dtls_srtp", 19, NULL, 0,
                             0);
  memset(keys, 0, sizeof *keys);
  keys->key_len = k;
  keys->salt_len = s;
  memcpy(keys->local, m, k); /* the client sends with the client key */
  memcpy(keys->local + k, m + 2 * k, s);
  memcpy(keys->remote, m + k, k);
  memcpy(keys->remote + k, m + 2 * k + s, s);
}

static void test_srtp(const dtls_srtp_keys *server_keys, dtls_srtp_keys *browser_keys) {
  browser_keys->profile = server_keys->profile;
  srtp_session browser, server;
  CHECK(srtp_session_init(&browser, browser_keys) == 0);
  CHECK(srtp_session_init(&server, server_keys) == 0);
  uint8_t pkt[200] = {0x80, 111, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef};
  for (int i = 12; i < 112; i++)
    pkt[i] = (uint8_t)i;
  uint8_t plain[112], replay[200];
  memcpy(plain, pkt, sizeof plain);
  int len = 112;
  CHECK(srtp_session_protect_rtp(&browser, pkt, &len) == 0 && len > 112);
  memcpy(replay, pkt, (size_t)len);
  int replay_len = len;
  CHECK(srtp_session_unprotect_rtp(&server, pkt, &len) == 0);
  CHECK(len == 112 && memcmp(pkt, plain, 112) == 0);
  CHECK(srtp_session_unprotect_rtp(&server, replay, &replay_len) == -1);

  uint8_t rtcp[100] = {0x80, 201, 0, 1, 0xde, 0xad, 0xbe, 0xef};
  len = 8;
  CHECK(srtp_session_protect_rtcp(&server, rtcp, &len) == 0);
  rtcp[len - 1] ^= 1; /* tampered tag */
  int bad = len;
  CHECK(srtp_session_unprotect_rtcp(&browser, rtcp, &bad) == -1);
  srtp_session_free(&browser);
  srtp_session_free(&server);
}

static void run(const char *server_profiles, const char *client_profiles,
                dtls_srtp_profile expect) {
  char err[200];
  dtls_context *ctx = dtls_context_new(server_profiles, err, sizeof err);
  CHECK(ctx != NULL);
  CHECK(strncmp(dtls_context_fingerprint(ctx), "sha-256 ", 8) == 0);
  client c;
  client_new(&c, client_profiles);
  wire from_server = {.len = 0};
  dtls *server = dtls_new(ctx, c.fingerprint, to_wire, &from_server);
  CHECK(dtls_timeout_ms(server) == -1 || dtls_timeout_ms(server) >= 0);
  CHECK(handshake(&c, server, &from_server) == DTLS_CONNECTED);
  CHECK(SSL_is_init_finished(c.ssl));
  dtls_srtp_keys sk, bk;
  CHECK(dtls_srtp_keys_get(server, &sk) == 0 && sk.profile == expect);
  client_keys(&c, &bk, sk.salt_len);
  CHECK(memcmp(sk.local, bk.remote, sk.key_len + sk.salt_len) == 0);
  CHECK(memcmp(sk.remote, bk.local, sk.key_len + sk.salt_len) == 0);
  test_srtp(&sk, &bk);
  dtls_close(server);
  dtls_free(server);
  client_free(&c);

  /* The same client, but the SDP promised another certificate. */
  client_new(&c, client_profiles);
  server = dtls_new(ctx, "sha-256 00:11", to_wire, &from_server);
  from_server.len = 0;
  CHECK(handshake(&c, server, &from_server) == DTLS_FAILED);
  CHECK(strstr(dtls_error(server), "fingerprint") != NULL);
  dtls_free(server);
  client_free(&c);
  dtls_context_free(ctx);
}

/* libsrtp's reference packet (srtp_validate): AES_CM_128_HMAC_SHA1_80 with a fixed
 * master key and salt, through our wrapper both ways. */
static void test_known_answer(void) {
  static const uint8_t key_salt[30] = {0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
                                       0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
                                       0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
                                       0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
  static const uint8_t plain[28] = {
      0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab,
      0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
  static const uint8_t cipher[38] = {
      0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e,
      0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d,
      0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb};
  dtls_srtp_keys keys = {
      .profile = DTLS_SRTP_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};
  memcpy(keys.local, key_salt, sizeof key_salt);
  memcpy(keys.remote, key_salt, sizeof key_salt);
  srtp_session s;
  CHECK(srtp_session_init(&s, &keys) == 0);
  uint8_t pkt[64];
  memcpy(pkt, plain, sizeof plain);
  int len = sizeof plain;
  CHECK(srtp_session_protect_rtp(&s, pkt, &len) == 0);
  CHECK(len == sizeof cipher && memcmp(pkt, cipher, sizeof cipher) == 0);
  memcpy(pkt, cipher, sizeof cipher);
  len = sizeof cipher;
  CHECK(srtp_session_unprotect_rtp(&s, pkt, &len) == 0);
  CHECK(len == sizeof plain && memcmp(pkt, plain, sizeof plain) == 0);
  srtp_session_free(&s);
}

int main(void) {
  CHECK(srtp_session_global_init() == 0);
  CHECK(srtp_openssl_installed()); /* libsrtp's AES and HMAC are OpenSSL's from here on */
  test_known_answer();
  test_malformed_records();
  test_after_buffers_released();
  test_lost_flight();
  /* Our preference wins over the client's order. */
  run("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
      "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", DTLS_SRTP_AEAD_AES_128_GCM);
  run("SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80",
      DTLS_SRTP_AES128_CM_SHA1_80);
  char err[200];
  CHECK(dtls_context_new("NOT_A_PROFILE", err, sizeof err) == NULL);
  CHECK_DONE();
}
