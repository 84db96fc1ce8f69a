/* fuzz_jwt — libFuzzer harness for JWT parsing (RTM credentials come from the network):
 * jwt_peek_claims and jwt_verify_hs256 on the input, and on the input re-signed with the
 * right key so that the checks after the signature (payload, times) are reached too. */
#include "auth/jwt.h"

#include "check.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000
static const char secret[] = "fuzz-secret";

static void b64url(const uint8_t *in, size_t len, char *out) {
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  while (n > 0 && out[n - 1] == '=')
    n--;
  out[n] = '\0';
  for (char *p = out; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

static void check_reason(const char *reason, size_t cap) {
  CHECK(strnlen(reason, cap) > 0 && strnlen(reason, cap) < cap);
}

/* Whatever verifies also peeks to the same claims, and re-signs to a token that
 * verifies to them again. */
static void check_token(const char *token) {
  char reason[128] = "";
  json_t *peeked = jwt_peek_claims(token, reason, sizeof reason);
  if (!peeked)
    check_reason(reason, sizeof reason);
  json_t *claims = jwt_verify_hs256(token, secret, NOW, reason, sizeof reason);
  if (!claims) {
    check_reason(reason, sizeof reason);
    json_decref(peeked);
    return;
  }
  CHECK(strlen(token) <= JWT_MAX_LEN);
  CHECK(peeked && json_equal(peeked, claims));
  int64_t exp = 0;
  CHECK(jwt_claim_time(claims, "exp", &exp) == 1 && exp + JWT_LEEWAY_S > NOW);
  char *again = jwt_sign_hs256(claims, secret);
  CHECK(again != NULL);
  json_t *back = jwt_verify_hs256(again, secret, NOW, reason, sizeof reason);
  CHECK(back && json_equal(back, claims));
  json_decref(back);
  free(again);
  json_decref(claims);
  json_decref(peeked);
}

/* The input up to its last '.', followed by the correct signature of that part. */
static char *resigned(const char *token, size_t len) {
  const char *dot = memrchr(token, '.', len);
  size_t head = dot ? (size_t)(dot - token) : len;
  uint8_t mac[32];
  unsigned int mlen = sizeof mac;
  HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)token, head, mac,
       &mlen);
  char *out = malloc(head + 64);
  memcpy(out, token, head);
  out[head] = '.';
  b64url(mac, sizeof mac, out + head + 1);
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Exact-size copy, NUL-terminated at the first NUL (a C string, as the API takes). */
  char *token = malloc(size + 1);
  memcpy(token, data, size);
  token[size] = '\0';
  size_t len = strlen(token);
  check_token(token);
  char *signed_token = resigned(token, len);
  check_token(signed_token);
  free(signed_token);
  free(token);
  return 0;
}
