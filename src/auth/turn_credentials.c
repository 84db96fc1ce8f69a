/* turn_credentials — coturn use-auth-secret credentials with OpenSSL's HMAC-SHA1. */
#include "auth/turn_credentials.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define SHA1_LEN 20

int turn_username(int64_t expires_at, const char *id, char *out, size_t cap) {
  if (!id || !*id)
    return -1;
  for (const char *p = id; *p; p++)
    if (*p == ':' || (unsigned char)*p < 0x20 || *p == 0x7f)
      return -1;
  int n = snprintf(out, cap, "%" PRId64 ":%s", expires_at, id);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int turn_credential(const char *secret, const char *username, char *out, size_t cap) {
  unsigned char mac[SHA1_LEN];
  unsigned int mac_len = sizeof mac;
  size_t secret_len = strlen(secret);
  if (!secret_len || secret_len > INT32_MAX || cap < TURN_CREDENTIAL_LEN)
    return -1;
  if (!HMAC(EVP_sha1(), secret, (int)secret_len, (const unsigned char *)username,
            strlen(username), mac, &mac_len) ||
      mac_len != SHA1_LEN)
    return -1;
  /* Standard base64 with padding, as coturn compares it: 20 bytes -> 28 characters. */
  EVP_EncodeBlock((unsigned char *)out, mac, (int)mac_len);
  return 0;
}
