/* test_jwt — HS256 JWTs: a published test vector, sign/verify round trip, and every
 * way a token from the network must be refused (tampering, alg, times, shape, size). */
#include "auth/jwt.h"
#include "check.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#define NOW 1700000000
static const char secret[] = "s3cret-s3cret-s3cret-s3cret-s3cret-s3cr";

/* base64url without padding, through OpenSSL's standard base64 (not jwt.c's code). */
static void b64url(const void *in, size_t len, char *out) {
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  while (n > 0 && out[n - 1] == '=')
    n--;
  out[n] = '\0';
  for (char *p = out; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

/* A token from raw header and payload JSON texts, signed with key (HS256). */
static char *forge(const char *header, const char *payload, const char *key) {
  static char tok[4096];
  char h[1024], p[2048], s[64];
  b64url(header, strlen(header), h);
  b64url(payload, strlen(payload), p);
  snprintf(tok, sizeof tok, "%s.%s", h, p);
  unsigned char mac[32];
  unsigned int mlen = 32;
  HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)tok, strlen(tok), mac,
       &mlen);
  b64url(mac, 32, s);
  strcat(tok, ".");
  strcat(tok, s);
  return tok;
}

static const char hs256[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* Verifies and returns 1 if accepted; reason ends up in why. */
static char why[200];
static int accepted(const char *token) {
  why[0] = '\0';
  json_t *c = jwt_verify_hs256(token, secret, NOW, why, sizeof why);
  json_decref(c);
  if (!c && !why[0])
    fprintf(stderr, "refused without a reason\n");
  return c != NULL;
}

static void known_vector(void) {
  /* The example token of jwt.io (no exp): signature checked before times. */
  const char *t =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
      "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  char r[200];
  CHECK(jwt_verify_hs256(t, "your-256-bit-secret", NOW, r, sizeof r) == NULL);
  CHECK_STR(r, "JWT has no exp");
  CHECK(jwt_verify_hs256(t, "your-256-bit-secreT", NOW, r, sizeof r) == NULL);
  CHECK_STR(r, "JWT signature does not match");
  json_t *c = jwt_peek_claims(t, r, sizeof r);
  CHECK_STR(json_string_value(json_object_get(c, "name")), "John Doe");
  json_decref(c);
}

static void round_trip(void) {
  json_t *claims =
      json_pack("{s:s, s:s, s:I, s:I, s:b}", "cid", "acme", "client_id", "agent-7", "exp",
                (json_int_t)NOW + 600, "iat", (json_int_t)NOW, "rec", 0);
  char *t = jwt_sign_hs256(claims, secret);
  CHECK(t != NULL);
  char r[200];
  json_t *got = jwt_verify_hs256(t, secret, NOW, r, sizeof r);
  CHECK(got && json_equal(got, claims));
  json_decref(got);
  got = jwt_peek_claims(t, r, sizeof r);
  CHECK_STR(json_string_value(json_object_get(got, "cid")), "acme");
  json_decref(got);
  int64_t exp = 0;
  CHECK(jwt_claim_time(claims, "exp", &exp) == 1 && exp == NOW + 600);
  /* Signed by us, checked by an independent HMAC over the same two parts. */
  char *payload = json_dumps(claims, JSON_COMPACT);
  CHECK_STR(t, forge(hs256, payload, secret));
  free(payload);
  CHECK(!accepted(forge(hs256, "{\"exp\":1700000600}", "another-secret")));
  CHECK(jwt_sign_hs256(claims, "") == NULL);
  json_t *not_object = json_string("x");
  CHECK(jwt_sign_hs256(not_object, secret) == NULL);
  json_decref(not_object);
  CHECK(jwt_verify_hs256(t, "", NOW, r, sizeof r) == NULL);
  free(t);
  json_decref(claims);
}

static void tampering(void) {
  char *t = strdup(forge(hs256, "{\"cid\":\"acme\",\"exp\":1700000600}", secret));
  CHECK(accepted(t));
  /* Payload swapped for another account's, signature kept. */
  char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
  char other[64], evil[4096];
  b64url("{\"cid\":\"evil\",\"exp\":1700000600}", 32, other);
  snprintf(evil, sizeof evil, "%.*s.%s%s", (int)(dot1 - t), t, other, dot2);
  CHECK(!accepted(evil));
  CHECK(strstr(why, "signature") != NULL);
  /* One signature character changed. */
  char *sig = strdup(t);
  size_t last = strlen(sig) - 5;
  sig[last] = sig[last] == 'A' ? 'B' : 'A';
  CHECK(!accepted(sig));
  /* Signature truncated; signature with non-canonical trailing bits (the last of 43
   * characters carries 2 unused bits). */
  sig[strlen(sig) - 1] = '\0';
  CHECK(!accepted(sig));
  strcpy(sig, t);
  char *lastc = sig + strlen(sig) - 1;
  *lastc = (char)(*lastc == 'A' ? 'B' : *lastc == 'Q' ? 'R' : *lastc + 1);
  CHECK(!accepted(sig));
  free(sig);
  free(t);
}

static void algorithms(void) {
  const char *payload = "{\"cid\":\"acme\",\"exp\":1700000600}";
  char none[512], p[128];
  b64url(payload, strlen(payload), p);
  snprintf(none, sizeof none, "eyJhbGciOiJub25lIn0.%s.", p); /* {"alg":"none"} */
  CHECK(!accepted(none));
  CHECK(!accepted(forge("{\"alg\":\"none\"}", payload, secret)));
  CHECK(strstr(why, "HS256") != NULL);
  CHECK(!accepted(forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", payload, secret)));
  CHECK(!accepted(forge("{\"alg\":\"hs256\"}", payload, secret)));
  CHECK(!accepted(forge("{\"typ\":\"JWT\"}", payload, secret)));
  CHECK(!accepted(forge("{\"alg\":\"HS256\",\"alg\":\"none\"}", payload, secret)));
  CHECK(!accepted(forge("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", payload, secret)));
  CHECK(!accepted(forge("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", payload, secret)));
  CHECK(!accepted(forge("[\"HS256\"]", payload, secret)));
  CHECK(accepted(forge("{\"alg\":\"HS256\"}", payload, secret)));
  CHECK(accepted(
      forge("{\"alg\":\"HS256\",\"typ\":\"jwt\",\"kid\":\"1\"}", payload, secret)));
}

static void times(void) {
  CHECK(!accepted(forge(hs256, "{\"exp\":1699999000}", secret)));
  CHECK_STR(why, "JWT expired");
  CHECK(!accepted(forge(hs256, "{\"exp\":1699999970}", secret))); /* exactly the leeway */
  CHECK(accepted(forge(hs256, "{\"exp\":1699999980}", secret)));  /* within the leeway */
  CHECK(accepted(forge(hs256, "{\"exp\":1700000600.75}", secret)));
  CHECK(!accepted(forge(hs256, "{\"cid\":\"acme\"}", secret)));
  CHECK_STR(why, "JWT has no exp");
  CHECK(!accepted(forge(hs256, "{\"exp\":\"1700000600\"}", secret)));
  CHECK(!accepted(forge(hs256, "{\"exp\":null}", secret)));
  CHECK(!accepted(forge(hs256, "{\"exp\":1700000600,\"nbf\":1700000100}", secret)));
  CHECK_STR(why, "JWT not valid yet (nbf)");
  CHECK(accepted(forge(hs256, "{\"exp\":1700000600,\"nbf\":1700000020}", secret)));
  CHECK(!accepted(forge(hs256, "{\"exp\":1700000600,\"iat\":1700000100}", secret)));
  CHECK(!accepted(forge(hs256, "{\"exp\":1700000600,\"iat\":true}", secret)));
  CHECK(accepted(forge(hs256, "{\"exp\":1700000600,\"iat\":1699990000}", secret)));
  /* Huge and negative dates do not overflow anything. */
  CHECK(accepted(forge(hs256, "{\"exp\":9223372036854775807}", secret)));
  CHECK(accepted(forge(hs256, "{\"exp\":1e300}", secret)));
  CHECK(!accepted(forge(hs256, "{\"exp\":-9223372036854775807}", secret)));
  CHECK(!accepted(forge(hs256, "{\"exp\":1700000600,\"nbf\":1e300}", secret)));
}

static void shapes(void) {
  const char *good = forge(hs256, "{\"exp\":1700000600}", secret);
  char buf[4096];
  CHECK(accepted(good));
  snprintf(buf, sizeof buf, "%s.%s", good, "AAAA");
  CHECK(!accepted(buf)); /* four parts */
  CHECK(strstr(why, "three") != NULL);
  snprintf(buf, sizeof buf, "%.*s", (int)(strrchr(good, '.') - good), good);
  CHECK(!accepted(buf)); /* two parts */
  snprintf(buf, sizeof buf, "%s", good);
  *strrchr(buf, '.') = '\0';
  strcat(buf, ".");
  CHECK(!accepted(buf)); /* empty signature */
  CHECK(!accepted(""));
  CHECK(!accepted(NULL));
  CHECK(!accepted(".."));
  /* Malformed base64url: '+' and '/' (standard alphabet), padding, a stray space. */
  snprintf(buf, sizeof buf, "%s", good);
  buf[3] = '+';
  CHECK(!accepted(buf));
  CHECK(strstr(why, "base64url") != NULL);
  char p[128], padded[512], h[128];
  b64url(hs256, strlen(hs256), h);
  b64url("{\"exp\":1700000600}", 18, p);
  snprintf(padded, sizeof padded, "%s==.%s%s", h, p, strrchr(good, '.'));
  CHECK(!accepted(padded));
  snprintf(padded, sizeof padded, "%s. %s%s", h, p, strrchr(good, '.'));
  CHECK(!accepted(padded));
  /* A length no base64 can have (4k + 1). */
  snprintf(padded, sizeof padded, "%sA.%s%s", h, p, strrchr(good, '.'));
  CHECK(!accepted(padded));
  /* Not JSON, not an object, trailing bytes, duplicate claims. */
  CHECK(!accepted(forge(hs256, "not json", secret)));
  CHECK(!accepted(forge(hs256, "[1700000600]", secret)));
  CHECK(!accepted(forge(hs256, "{\"exp\":1700000600} x", secret)));
  CHECK(!accepted(
      forge(hs256, "{\"exp\":1700000600,\"cid\":\"a\",\"cid\":\"b\"}", secret)));
  char r[200];
  CHECK(jwt_peek_claims("abc.def", r, sizeof r) == NULL);
  CHECK(jwt_peek_claims(forge(hs256, "[]", secret), r, sizeof r) == NULL);
}

static void oversize(void) {
  /* The longest valid token under the limit passes; anything longer is refused
   * before decoding. */
  char *payload = malloc(JWT_MAX_LEN);
  json_t *claims = json_pack("{s:I}", "exp", (json_int_t)NOW + 600);
  char *t = NULL;
  size_t len = 0;
  for (size_t fill = JWT_MAX_LEN * 3 / 4; fill > 0; fill--) {
    memset(payload, 'x', fill);
    payload[fill] = '\0';
    json_object_set_new(claims, "pad", json_string(payload));
    free(t);
    t = jwt_sign_hs256(claims, secret);
    len = strlen(t);
    if (len <= JWT_MAX_LEN)
      break;
  }
  CHECK(len <= JWT_MAX_LEN && len >= JWT_MAX_LEN - 2);
  CHECK(accepted(t));
  /* Stretched to exactly one byte over by more payload characters. */
  char *longer = malloc(JWT_MAX_LEN + 2);
  char *dot2 = strrchr(t, '.');
  size_t head = (size_t)(dot2 - t), extra = JWT_MAX_LEN + 1 - len;
  memcpy(longer, t, head);
  memset(longer + head, 'A', extra);
  strcpy(longer + head + extra, dot2);
  CHECK(strlen(longer) == JWT_MAX_LEN + 1);
  CHECK(!accepted(longer));
  CHECK(strstr(why, "longer") != NULL);
  free(longer);
  free(t);
  free(payload);
  json_decref(claims);
}

int main(void) {
  known_vector();
  round_trip();
  tampering();
  algorithms();
  times();
  shapes();
  oversize();
  CHECK_DONE();
}
