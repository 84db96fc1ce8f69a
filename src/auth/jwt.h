/* jwt — HS256 JSON Web Tokens (RFC 7519): signing, and strict parsing and
 * verification of tokens that arrive from the network (RTM credentials). */
#ifndef PARLEY_JWT_H
#define PARLEY_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_LEN 8192 /* longer tokens are refused before any decoding */
#define JWT_LEEWAY_S 30  /* clock skew allowed on exp, nbf and iat */

/* Signs claims (a JSON object) with secret (the HMAC key is the secret's bytes as
 * given). Returns a malloc'd "header.payload.signature", or NULL if claims is not an
 * object or the secret is empty. */
char *jwt_sign_hs256(const json_t *claims, const char *secret);

/* Splits and decodes without verifying (to read `cid` to find the secret); NULL +
 * reason if malformed. Checks everything but the signature and the times: size,
 * exactly three non-empty base64url parts (no padding, canonical), a JSON object
 * header with alg "HS256" (typ, if present, "JWT"; no crit), a 32-byte signature,
 * a JSON object payload without duplicate keys. Caller decrefs. */
json_t *jwt_peek_claims(const char *token, char *reason, size_t n);

/* Verifies the signature (constant time) and the times: exp required and
 * now_s < exp + leeway; nbf, if present, <= now_s + leeway; iat, if present, not
 * after now_s + leeway. Returns the claims (caller decrefs) or NULL + reason. */
json_t *jwt_verify_hs256(const char *token, const char *secret, int64_t now_s,
                         char *reason, size_t n);

/* Reads a NumericDate claim as whole seconds (fractions dropped, clamped to
 * +-2^62). Returns 1 present, 0 absent, -1 present but not a number. */
int jwt_claim_time(const json_t *claims, const char *name, int64_t *out);

#endif
