/* jwt — HS256 tokens with OpenSSL HMAC and jansson. Parsing refuses anything not in
 * the one shape Parley issues and accepts, so that no input has two readings. */
#include "auth/jwt.h"

#include "core/mem.h"

#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIG_LEN 32 /* HMAC-SHA256 */
#define TIME_LIMIT ((int64_t)1 << 62)

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Writes base64url without padding and a NUL; out needs 4 * ceil(len / 3) + 1. */
static size_t b64url_encode(const uint8_t *in, size_t len, char *out) {
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < len)
      v |= in[i + 2];
    size_t chars = len - i >= 3 ? 4 : len - i + 1;
    for (size_t k = 0; k < chars; k++)
      out[o++] = b64url[(v >> (18 - 6 * k)) & 63];
  }
  out[o] = '\0';
  return o;
}

static int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Strict decode: alphabet only, no padding, and the unused low bits of the last
 * character zero, so each byte string has exactly one encoding (no malleable
 * signatures). out needs len * 3 / 4 bytes. Returns the decoded length or -1. */
static long b64url_decode(const char *in, size_t len, uint8_t *out) {
  if (len % 4 == 1)
    return -1;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = b64url_value(in[i]);
    if (v < 0)
      return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return acc == 0 ? (long)o : -1;
}

typedef struct {
  const char *part[3];
  size_t len[3];
} jwt_parts;

static bool split(const char *token, jwt_parts *p, char *reason, size_t n) {
  size_t len = token ? strnlen(token, JWT_MAX_LEN + 1) : 0;
  if (len == 0) {
    snprintf(reason, n, "empty token");
    return false;
  }
  if (len > JWT_MAX_LEN) {
    snprintf(reason, n, "token longer than %d bytes", JWT_MAX_LEN);
    return false;
  }
  const char *at = token, *end = token + len;
  for (int i = 0; i < 3; i++) {
    const char *dot = memchr(at, '.', (size_t)(end - at));
    if ((i < 2 && !dot) || (i == 2 && dot)) {
      snprintf(reason, n, "a JWT has exactly three dot-separated parts");
      return false;
    }
    p->part[i] = at;
    p->len[i] = (size_t)((dot ? dot : end) - at);
    if (p->len[i] == 0) {
      snprintf(reason, n, "empty JWT part");
      return false;
    }
    at = dot ? dot + 1 : end;
  }
  return true;
}

/* Decodes one part as a JSON object; NULL + reason otherwise. */
static json_t *decode_object(const char *part, size_t len, const char *what, char *reason,
                             size_t n) {
  uint8_t *raw = xmalloc(len * 3 / 4 + 1);
  long raw_len = b64url_decode(part, len, raw);
  json_t *obj = NULL;
  if (raw_len < 0)
    snprintf(reason, n, "JWT %s is not base64url", what);
  else if (!(obj = json_loadb((const char *)raw, (size_t)raw_len, JSON_REJECT_DUPLICATES,
                              NULL)) ||
           !json_is_object(obj)) {
    snprintf(reason, n, "JWT %s is not a JSON object", what);
    json_decref(obj);
    obj = NULL;
  }
  free(raw);
  return obj;
}

static bool header_ok(const jwt_parts *p, char *reason, size_t n) {
  json_t *h = decode_object(p->part[0], p->len[0], "header", reason, n);
  if (!h)
    return false;
  const char *alg = json_string_value(json_object_get(h, "alg"));
  json_t *typ = json_object_get(h, "typ");
  bool ok = false;
  if (!alg || strcmp(alg, "HS256") != 0)
    snprintf(reason, n, "JWT alg must be HS256");
  else if (typ &&
           (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
    snprintf(reason, n, "JWT typ must be JWT");
  else if (json_object_get(h, "crit"))
    snprintf(reason, n, "JWT crit extensions are not supported");
  else
    ok = true;
  json_decref(h);
  return ok;
}

static bool signature_bytes(const jwt_parts *p, uint8_t sig[SIG_LEN], char *reason,
                            size_t n) {
  uint8_t buf[JWT_MAX_LEN];
  if (b64url_decode(p->part[2], p->len[2], buf) != SIG_LEN) {
    snprintf(reason, n, "JWT signature is not a base64url HMAC-SHA256");
    return false;
  }
  memcpy(sig, buf, SIG_LEN);
  return true;
}

static bool parse(const char *token, jwt_parts *p, uint8_t sig[SIG_LEN], char *reason,
                  size_t n) {
  return split(token, p, reason, n) && header_ok(p, reason, n) &&
         signature_bytes(p, sig, reason, n);
}

static bool hmac(const char *secret, const char *data, size_t len, uint8_t out[SIG_LEN]) {
  unsigned int out_len = SIG_LEN;
  return HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)data, len, out,
              &out_len) != NULL &&
         out_len == SIG_LEN;
}

char *jwt_sign_hs256(const json_t *claims, const char *secret) {
  if (!json_is_object(claims) || !secret || !*secret)
    return NULL;
  static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  char *payload = json_dumps(claims, JSON_COMPACT);
  if (!payload)
    return NULL;
  size_t hlen = sizeof header - 1, plen = strlen(payload);
  size_t cap = 4 * ((hlen + 2) / 3) + 4 * ((plen + 2) / 3) + 4 * ((SIG_LEN + 2) / 3) + 3;
  char *out = xmalloc(cap);
  size_t o = b64url_encode((const uint8_t *)header, hlen, out);
  out[o++] = '.';
  o += b64url_encode((const uint8_t *)payload, plen, out + o);
  free(payload);
  uint8_t sig[SIG_LEN];
  if (!hmac(secret, out, o, sig)) {
    free(out);
    return NULL;
  }
  out[o++] = '.';
  b64url_encode(sig, SIG_LEN, out + o);
  return out;
}

json_t *jwt_peek_claims(const char *token, char *reason, size_t n) {
  jwt_parts p;
  uint8_t sig[SIG_LEN];
  if (!parse(token, &p, sig, reason, n))
    return NULL;
  return decode_object(p.part[1], p.len[1], "payload", reason, n);
}

int jwt_claim_time(const json_t *claims, const char *name, int64_t *out) {
  json_t *v = json_object_get(claims, name);
  if (!v)
    return 0;
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    *out = i > TIME_LIMIT ? TIME_LIMIT : i < -TIME_LIMIT ? -TIME_LIMIT : (int64_t)i;
    return 1;
  }
  if (!json_is_real(v) || !isfinite(json_real_value(v)))
    return -1;
  double d = floor(json_real_value(v));
  *out = d > (double)TIME_LIMIT    ? TIME_LIMIT
         : d < -(double)TIME_LIMIT ? -TIME_LIMIT
                                   : (int64_t)d;
  return 1;
}

static bool times_ok(const json_t *claims, int64_t now_s, char *reason, size_t n) {
  int64_t exp = 0, nbf = 0, iat = 0;
  int has_exp = jwt_claim_time(claims, "exp", &exp);
  int has_nbf = jwt_claim_time(claims, "nbf", &nbf);
  int has_iat = jwt_claim_time(claims, "iat", &iat);
  if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
    snprintf(reason, n, "JWT exp, nbf and iat must be numbers (seconds since 1970)");
  else if (!has_exp)
    snprintf(reason, n, "JWT has no exp");
  else if (now_s >= exp + JWT_LEEWAY_S)
    snprintf(reason, n, "JWT expired");
  else if (has_nbf && nbf > now_s + JWT_LEEWAY_S)
    snprintf(reason, n, "JWT not valid yet (nbf)");
  else if (has_iat && iat > now_s + JWT_LEEWAY_S)
    snprintf(reason, n, "JWT issued in the future (iat)");
  else
    return true;
  return false;
}

json_t *jwt_verify_hs256(const char *token, const char *secret, int64_t now_s,
                         char *reason, size_t n) {
  jwt_parts p;
  uint8_t sig[SIG_LEN], expect[SIG_LEN];
  if (!parse(token, &p, sig, reason, n))
    return NULL;
  size_t signed_len = p.len[0] + 1 + p.len[1];
  if (!secret || !*secret || !hmac(secret, token, signed_len, expect) ||
      CRYPTO_memcmp(sig, expect, SIG_LEN) != 0) {
    snprintf(reason, n, "JWT signature does not match");
    return NULL;
  }
  json_t *claims = decode_object(p.part[1], p.len[1], "payload", reason, n);
  if (claims && !times_ok(claims, now_s, reason, n)) {
    json_decref(claims);
    return NULL;
  }
  return claims;
}
