/* ids — random identifiers, digests and constant-time secret comparison. */
#include "core/ids.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ids_random(void *buf, size_t len) {
  if (RAND_bytes(buf, (int)len) != 1) {
    fprintf(stderr, "fatal: RAND_bytes failed\n");
    abort();
  }
}

void ids_uuid(char out[IDS_UUID_LEN + 1]) {
  uint8_t b[16];
  ids_random(b, sizeof b);
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
  snprintf(out, IDS_UUID_LEN + 1,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
           b[13], b[14], b[15]);
}

void ids_token(char out[IDS_TOKEN_LEN + 1]) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint8_t b[33];
  ids_random(b, 32);
  b[32] = 0;
  size_t o = 0;
  for (size_t i = 0; i < 33; i += 3) {
    uint32_t v = ((uint32_t)b[i] << 16) | ((uint32_t)b[i + 1] << 8) | b[i + 2];
    for (int k = 3; k >= 0 && o < IDS_TOKEN_LEN; k--)
      out[o++] = alphabet[(v >> (6 * k)) & 63];
  }
  out[IDS_TOKEN_LEN] = '\0';
}

void ids_digest(const void *data, size_t len, uint8_t out[IDS_DIGEST_LEN]) {
  /* Fetched once: OpenSSL 3 implicit fetches per call are slow. */
  static EVP_MD *sha256;
  if (!sha256)
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  unsigned int n = IDS_DIGEST_LEN;
  if (!sha256 || EVP_Digest(data, len, out, &n, sha256, NULL) != 1) {
    fprintf(stderr, "fatal: SHA-256 unavailable\n");
    abort();
  }
}

int ids_secret_equal(const char *a, size_t alen, const char *b, size_t blen) {
  uint8_t da[IDS_DIGEST_LEN], db[IDS_DIGEST_LEN];
  ids_digest(a, alen, da);
  ids_digest(b, blen, db);
  return CRYPTO_memcmp(da, db, IDS_DIGEST_LEN) == 0;
}

int ids_is_uuid(const char *s, size_t len) {
  if (len != IDS_UUID_LEN)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    int dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? c != '-'
             : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                 (c >= 'A' && c <= 'F')))
      return 0;
  }
  return 1;
}

void ids_webhook_secret(char out[IDS_WEBHOOK_SECRET_LEN + 1]) {
  uint8_t key[32];
  ids_random(key, sizeof key);
  memcpy(out, IDS_WEBHOOK_PREFIX, sizeof IDS_WEBHOOK_PREFIX - 1);
  EVP_EncodeBlock((unsigned char *)out + sizeof IDS_WEBHOOK_PREFIX - 1, key, sizeof key);
}

int ids_webhook_secret_standard(const char *secret, char *out, size_t cap) {
  size_t n = strlen(secret), p = sizeof IDS_WEBHOOK_PREFIX - 1;
  if (n == 0 || strncmp(secret, IDS_WEBHOOK_PREFIX, p) == 0) {
    if (n >= cap)
      return -1;
    memcpy(out, secret, n + 1);
    return 0;
  }
  if (n > 3 * 1024 || p + 4 * ((n + 2) / 3) >= cap)
    return -1;
  memcpy(out, IDS_WEBHOOK_PREFIX, p);
  EVP_EncodeBlock((unsigned char *)out + p, (const unsigned char *)secret, (int)n);
  return 0;
}
