/* tls — OpenSSL server contexts for the HTTPS listener (modern settings, ALPN h2 then
 * http/1.1), self-signed certificates for trying it, and SPKI pins for clients. */
#ifndef PARLEY_TLS_H
#define PARLEY_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

/* The base64 of SHA-256 over a DER SubjectPublicKeyInfo: 44 characters and a NUL. */
#define TLS_PIN_LEN 45

/* A server context from PEM files: cert_file holds the certificate, then its chain;
 * key_file the private key, which must match it. TLS 1.2 and 1.3 only, ECDHE with
 * AEAD ciphers for 1.2, no compression or renegotiation, the server's cipher order,
 * ALPN h2 before http/1.1. Returns NULL with a message in err. Reads both files: on
 * an event loop only where a short blocking read is acceptable (start, SIGHUP). */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, char *err,
                            size_t errlen);
/* The SPKI pin of ctx's certificate (what Chromium's
 * --ignore-certificate-errors-spki-list takes). Returns 0, or -1. */
int tls_ctx_pin(SSL_CTX *ctx, char pin[TLS_PIN_LEN]);

/* A fresh ECDSA P-256 key and a certificate for it, self-signed, valid for days from
 * now, with subjectAltName DNS:name (and IP:name when name is an address). Writes
 * them as PEM to cert_file and key_file (mode 0600); pin gets the SPKI pin. Returns
 * 0, or -1 with a message in err. */
int tls_self_signed(const char *name, int days, const char *cert_file,
                    const char *key_file, char pin[TLS_PIN_LEN], char *err,
                    size_t errlen);

#endif
