/* tls — server SSL_CTX from PEM files, self-signed certificates, SPKI pins. */
#include "http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* TLS 1.2 only: forward secrecy (ECDHE) and AEAD ciphers, nothing else (Mozilla's
 * "intermediate" list without DHE). TLS 1.3's suites are all AEAD; OpenSSL's default
 * order for them stands. */
#define TLS12_CIPHERS                                                                    \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                           \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                           \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Writes "what: OpenSSL's reason" to err and clears OpenSSL's error queue. */
static void ssl_error(char *err, size_t errlen, const char *what) {
  unsigned long e = ERR_peek_last_error();
  char reason[256] = "unknown error";
  if (e)
    ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  snprintf(err, errlen, "%s: %s", what, reason);
}

/* The file's own errors (missing, unreadable) say more than OpenSSL's BIO errors. */
static FILE *open_pem(const char *path, const char *what, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f)
    snprintf(err, errlen, "cannot open the TLS %s %s: %s", what, path, strerror(errno));
  return f;
}

static EVP_PKEY *read_key(const char *key_file, char *err, size_t errlen) {
  FILE *f = open_pem(key_file, "key", err, errlen);
  if (!f)
    return NULL;
  EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (!key) {
    char what[600];
    snprintf(what, sizeof what, "no PEM private key in %.500s", key_file);
    ssl_error(err, errlen, what);
  }
  return key;
}

static int set_modern(SSL_CTX *ctx, char *err, size_t errlen) {
  /* Compression (CRIME) and renegotiation (a handshake per request for a few bytes
   * of the client's) are off; the server's cipher order wins. */
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  /* An idle connection (an event stream between events) gives its record buffers
   * back: 28.7 KiB of RSS per idle TLS event stream with this, 38.2 without. */
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
      SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
    ssl_error(err, errlen, "cannot set the TLS versions and ciphers");
    return -1;
  }
  /* h2 first, then http/1.1, the server's order: browsers open WebSockets on
   * connections of their own that offer http/1.1 alone, which h2o upgrades. */
  h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols);
  return 0;
}

static int load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
                     size_t errlen) {
  char what[1200];
  FILE *f = open_pem(cert_file, "certificate", err, errlen);
  if (!f)
    return -1;
  fclose(f);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
    snprintf(what, sizeof what, "no PEM certificate (chain) in %.500s", cert_file);
    ssl_error(err, errlen, what);
    return -1;
  }
  EVP_PKEY *key = read_key(key_file, err, errlen);
  if (!key)
    return -1;
  X509 *cert = SSL_CTX_get0_certificate(ctx);
  int rc = -1;
  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    snprintf(err, errlen,
             "the private key in %.500s does not match the certificate in %.500s",
             key_file, cert_file);
  } else if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    snprintf(what, sizeof what, "cannot use the private key in %.500s", key_file);
    ssl_error(err, errlen, what);
  } else {
    rc = 0;
  }
  EVP_PKEY_free(key);
  return rc;
}

SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, char *err,
                            size_t errlen) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    ssl_error(err, errlen, "cannot create a TLS context");
    return NULL;
  }
  if (set_modern(ctx, err, errlen) != 0 ||
      load_pair(ctx, cert_file, key_file, err, errlen) != 0) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

static int pin_of(X509 *cert, char pin[TLS_PIN_LEN]) {
  unsigned char *der = NULL;
  int len = cert ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
  if (len <= 0)
    return -1;
  unsigned char md[32];
  unsigned int md_len = 0;
  int ok = EVP_Digest(der, (size_t)len, md, &md_len, EVP_sha256(), NULL);
  OPENSSL_free(der);
  if (ok != 1 || md_len != sizeof md)
    return -1;
  EVP_EncodeBlock((unsigned char *)pin, md, sizeof md); /* 44 characters and a NUL */
  return 0;
}

int tls_ctx_pin(SSL_CTX *ctx, char pin[TLS_PIN_LEN]) {
  return pin_of(SSL_CTX_get0_certificate(ctx), pin);
}

/* ---- self-signed certificates ---- */

/* A host name or an address: letters, digits, '.', '-', ':' (IPv6). Nothing that
 * would split the subjectAltName list OpenSSL parses. */
static bool valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 253 || name[0] == '-') /* "--name --days": an option, not a name */
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == ':'))
      return false;
  return true;
}

static bool is_address(const char *name) {
  unsigned char a[16];
  return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

static int add_ext(X509 *x, int nid, const char *value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
  if (!ext)
    return -1;
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? 0 : -1;
}

/* A positive random 128-bit serial (RFC 5280 §4.1.2.2: at most 20 bytes). */
static int set_serial(X509 *x) {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1)
    return -1;
  r[0] &= 0x7f;
  r[0] |= 0x01; /* never zero, never a leading zero byte */
  BIGNUM *bn = BN_bin2bn(r, sizeof r, NULL);
  int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
  BN_free(bn);
  return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *name, int days) {
  char san[600];
  if (is_address(name))
    snprintf(san, sizeof san, "DNS:%s,IP:%s", name, name);
  else
    snprintf(san, sizeof san, "DNS:%s", name);
  X509 *x = X509_new();
  X509_NAME *subject = X509_get_subject_name(x);
  /* Backdated an hour: a client whose clock is a little behind still accepts it. */
  bool ok = X509_set_version(x, X509_VERSION_3) == 1 && set_serial(x) == 0 &&
            X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
            X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) &&
            X509_set_pubkey(x, key) == 1 &&
            X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                       (const unsigned char *)name, -1, -1, 0) == 1 &&
            X509_set_issuer_name(x, subject) == 1 &&
            add_ext(x, NID_subject_alt_name, san) == 0 &&
            add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
            add_ext(x, NID_key_usage, "critical,digitalSignature") == 0 &&
            add_ext(x, NID_ext_key_usage, "serverAuth") == 0 &&
            add_ext(x, NID_subject_key_identifier, "hash") == 0 &&
            X509_sign(x, key, EVP_sha256()) > 0;
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

/* Writes through a new file of the given mode; 0, or -1 with errno's message. */
static int write_pem(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key, char *err,
                     size_t errlen) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  /* A file that was there keeps its mode unless told: a key must not stay readable. */
  FILE *f = fd >= 0 && fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  int ok = cert ? PEM_write_X509(f, cert)
                : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  if (fclose(f) != 0 || ok != 1) {
    snprintf(err, errlen, "cannot write %s: %s", path, ok != 1 ? "PEM" : strerror(errno));
    ERR_clear_error();
    return -1;
  }
  return 0;
}

int tls_self_signed(const char *name, int days, const char *cert_file,
                    const char *key_file, char pin[TLS_PIN_LEN], char *err,
                    size_t errlen) {
  if (!valid_name(name)) {
    snprintf(err, errlen, "\"%s\" is not a host name or address", name);
    return -1;
  }
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = key ? make_cert(key, name, days) : NULL;
  int rc = -1;
  if (!cert)
    ssl_error(err, errlen, "cannot make the certificate");
  else if (write_pem(key_file, 0600, NULL, key, err, errlen) == 0 &&
           write_pem(cert_file, 0644, cert, NULL, err, errlen) == 0 &&
           pin_of(cert, pin) == 0)
    rc = 0;
  X509_free(cert);
  EVP_PKEY_free(key);
  return rc;
}
