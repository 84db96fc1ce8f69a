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
/* 1 if s has the shape of a UUID (36 chars of hex and dashes). */
int ids_is_uuid(const char *s, size_t len);

#endif
