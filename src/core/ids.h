/* ids — random identifiers and secret handling: UUIDs, opaque tokens, digests,
 * and constant-time comparison of secrets (all randomness from OpenSSL's CSPRNG). */
#ifndef PARLEY_IDS_H
#define PARLEY_IDS_H

#include <stddef.h>
#include <stdint.h>

#define IDS_UUID_LEN 36
#define IDS_TOKEN_LEN 43 /* base64url of 32 random bytes, no padding */
#define IDS_DIGEST_LEN 32

/* Writes a random RFC 4122 version-4 UUID and a terminating NUL into out. */
void ids_uuid(char out[IDS_UUID_LEN + 1]);
/* Writes a 256-bit random token, base64url without padding, NUL-terminated. */
void ids_token(char out[IDS_TOKEN_LEN + 1]);
/* SHA-256 of data. */
void ids_digest(const void *data, size_t len, uint8_t out[IDS_DIGEST_LEN]);
/* 1 if the two byte strings are equal; time depends on neither content nor
 * which one is longer (both are hashed first). */
int ids_secret_equal(const char *a, size_t alen, const char *b, size_t blen);
/* Fills buf with random bytes; aborts if the CSPRNG fails. */
void ids_random(void *buf, size_t len);
/* Webhook secrets in the Standard Webhooks form: "whsec_" + base64 (standard alphabet,
 * padded) of the key bytes; the key is 32 random bytes. */
#define IDS_WEBHOOK_PREFIX "whsec_"
#define IDS_WEBHOOK_SECRET_LEN 50 /* "whsec_" + 44 */
void ids_webhook_secret(char out[IDS_WEBHOOK_SECRET_LEN + 1]);
/* A secret made before Standard Webhooks secrets (a token whose text itself was the HMAC
 * key) in that form: "whsec_" + base64 of its text, i.e. the same key, so signatures do
 * not change. A secret already in that form (or "") is copied as is. Returns 0, or -1 if
 * it does not fit in cap bytes. */
int ids_webhook_secret_standard(const char *secret, char *out, size_t cap);
/* 1 if s has the shape of a UUID (36 chars of hex and dashes). */
int ids_is_uuid(const char *s, size_t len);

#endif
