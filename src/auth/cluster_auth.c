/* cluster_auth — relay headers and cluster tokens: HMAC-SHA256 with the cluster secret,
 * compared in constant time; every field is bounded before anything is computed. */
#include "auth/cluster_auth.h"

#include "core/mem.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAC_LEN 32
#define TOKEN_MAC_LEN 16
#define TOKEN_MAC_B64 22 /* base64url of 16 bytes, no padding */
#define RANDOM_LEN 43
#define UUID_MAX 64

/* HMAC-SHA256 over the parts back to back (one-shot HMAC: the others are deprecated
 * in OpenSSL 3). */
static bool mac_parts(const uint8_t *key, size_t key_len, const char *const *parts,
                      const size_t *lens, size_t n, uint8_t out[MAC_LEN]) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += lens[i];
  uint8_t *data = xmalloc(total ? total : 1), *p = data;
  for (size_t i = 0; i < n; i++) {
    if (lens[i])
      memcpy(p, parts[i], lens[i]);
    p += lens[i];
  }
  unsigned olen = 0;
  bool ok =
      HMAC(EVP_sha256(), key, (int)key_len, data, total, out, &olen) && olen == MAC_LEN;
  free(data);
  return ok;
}

static bool id_char(char ch) { return ch > ' ' && ch < 0x7f; }

static bool relay_mac(const uint8_t *key, size_t key_len, const char *id, size_t id_len,
                      const char *ms, size_t ms_len, const char *method, const char *path,
                      size_t path_len, uint8_t out[MAC_LEN]) {
  const char *parts[] = {id, " ", ms, " ", method, " ", path};
  size_t lens[] = {id_len, 1, ms_len, 1, strlen(method), 1, path_len};
  return mac_parts(key, key_len, parts, lens, 7, out);
}

static void mac_hex(const uint8_t mac[MAC_LEN], char out[2 * MAC_LEN + 1]) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < MAC_LEN; i++) {
    out[2 * i] = digits[mac[i] >> 4];
    out[2 * i + 1] = digits[mac[i] & 15];
  }
  out[2 * MAC_LEN] = '\0';
}

int relay_header_sign(const uint8_t *key, size_t key_len, const char *node_id,
                      int64_t now_ms, const char *method, const char *path,
                      size_t path_len, char *out, size_t outlen) {
  size_t id_len = strlen(node_id);
  if (id_len == 0 || id_len >= RELAY_NODE_ID_MAX)
    return -1;
  for (size_t i = 0; i < id_len; i++)
    if (!id_char(node_id[i]))
      return -1;
  char ms[24];
  int ms_len = snprintf(ms, sizeof ms, "%" PRId64, now_ms);
  uint8_t mac[MAC_LEN];
  if (!relay_mac(key, key_len, node_id, id_len, ms, (size_t)ms_len, method, path,
                 path_len, mac))
    return -1;
  char hex[2 * MAC_LEN + 1];
  mac_hex(mac, hex);
  int n = snprintf(out, outlen, "%s %s %s", node_id, ms, hex);
  return n > 0 && (size_t)n < outlen ? n : -1;
}

relay_verdict relay_header_verify(const uint8_t *key, size_t key_len, const char *value,
                                  size_t len, int64_t now_ms, const char *method,
                                  const char *path, size_t path_len,
                                  char node_id[RELAY_NODE_ID_MAX]) {
  if (len > RELAY_HEADER_MAX)
    return RELAY_MALFORMED;
  const char *sp1 = memchr(value, ' ', len);
  if (!sp1)
    return RELAY_MALFORMED;
  size_t id_len = (size_t)(sp1 - value);
  const char *ms = sp1 + 1;
  const char *sp2 = memchr(ms, ' ', len - id_len - 1);
  if (!sp2)
    return RELAY_MALFORMED;
  size_t ms_len = (size_t)(sp2 - ms);
  const char *hex = sp2 + 1;
  size_t hex_len = len - (size_t)(hex - value);
  if (id_len == 0 || id_len >= RELAY_NODE_ID_MAX || ms_len == 0 || ms_len > 15 ||
      hex_len != 2 * MAC_LEN)
    return RELAY_MALFORMED;
  for (size_t i = 0; i < id_len; i++)
    if (!id_char(value[i]))
      return RELAY_MALFORMED;
  int64_t t = 0;
  for (size_t i = 0; i < ms_len; i++) {
    if (ms[i] < '0' || ms[i] > '9')
      return RELAY_MALFORMED;
    t = t * 10 + (ms[i] - '0');
  }
  /* Compared as the lowercase hex relay_header_sign writes: no hex parser to get wrong.
   */
  uint8_t want[MAC_LEN];
  char want_hex[2 * MAC_LEN + 1];
  if (!relay_mac(key, key_len, value, id_len, ms, ms_len, method, path, path_len, want))
    return RELAY_BAD_MAC;
  mac_hex(want, want_hex);
  if (CRYPTO_memcmp(hex, want_hex, 2 * MAC_LEN) != 0)
    return RELAY_BAD_MAC;
  if (t < now_ms - RELAY_WINDOW_MS || t > now_ms + RELAY_WINDOW_MS)
    return RELAY_STALE;
  memcpy(node_id, value, id_len);
  node_id[id_len] = '\0';
  return RELAY_OK;
}

/* ---- tokens ---- */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url_16(const uint8_t in[TOKEN_MAC_LEN], char out[TOKEN_MAC_B64 + 1]) {
  size_t o = 0;
  for (size_t i = 0; i < TOKEN_MAC_LEN; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    size_t left = TOKEN_MAC_LEN - i;
    if (left > 1)
      v |= (uint32_t)in[i + 1] << 8;
    if (left > 2)
      v |= in[i + 2];
    out[o++] = b64url[v >> 18 & 63];
    out[o++] = b64url[v >> 12 & 63];
    if (left > 1)
      out[o++] = b64url[v >> 6 & 63];
    if (left > 2)
      out[o++] = b64url[v & 63];
  }
  out[o] = '\0';
}

static bool uuid_ok(const char *u, size_t len) {
  if (len == 0 || len > UUID_MAX)
    return false;
  for (size_t i = 0; i < len; i++) {
    char ch = u[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
          (ch >= 'A' && ch <= 'Z') || ch == '-'))
      return false;
  }
  return true;
}

static bool token_mac(const uint8_t *key, size_t key_len, const char *room_key,
                      const char *uuid, size_t uuid_len, const char *exp, size_t exp_len,
                      const char *random, char out[TOKEN_MAC_B64 + 1]) {
  const char *parts[] = {"parley-token\n", room_key, "\n", uuid, "\n", exp, "\n", random};
  size_t lens[] = {13, strlen(room_key), 1, uuid_len, 1, exp_len, 1, RANDOM_LEN};
  uint8_t mac[MAC_LEN];
  if (!mac_parts(key, key_len, parts, lens, 8, mac))
    return false;
  b64url_16(mac, out);
  return true;
}

int ctoken_make(const uint8_t *key, size_t key_len, const char *random43,
                const char *room_key, const char *uuid, int64_t expires_s, char *out,
                size_t outlen) {
  size_t uuid_len = strlen(uuid);
  if (strlen(random43) != RANDOM_LEN || !uuid_ok(uuid, uuid_len) || expires_s < 0)
    return -1;
  char exp[24], mac[TOKEN_MAC_B64 + 1];
  int exp_len = snprintf(exp, sizeof exp, "%" PRId64, expires_s);
  if (!token_mac(key, key_len, room_key, uuid, uuid_len, exp, (size_t)exp_len, random43,
                 mac))
    return -1;
  int n = snprintf(out, outlen, "%s.%s.%s.%s", random43, uuid, exp, mac);
  return n > 0 && (size_t)n < outlen ? n : -1;
}

ctoken_verdict ctoken_check(const uint8_t *key, size_t key_len, const char *token,
                            size_t len, const char *room_key, int64_t now_s, char *uuid) {
  if (len >= CTOKEN_MAX || len < RANDOM_LEN + 1 || token[RANDOM_LEN] != '.')
    return CTOKEN_MALFORMED;
  char random[RANDOM_LEN + 1];
  memcpy(random, token, RANDOM_LEN);
  random[RANDOM_LEN] = '\0';
  for (size_t i = 0; i < RANDOM_LEN; i++)
    if (!strchr(b64url, random[i]) || random[i] == '\0')
      return CTOKEN_MALFORMED;
  const char *u = token + RANDOM_LEN + 1, *end = token + len;
  const char *dot = memchr(u, '.', (size_t)(end - u));
  if (!dot)
    return CTOKEN_MALFORMED;
  size_t uuid_len = (size_t)(dot - u);
  const char *exp = dot + 1;
  const char *dot2 = memchr(exp, '.', (size_t)(end - exp));
  if (!dot2)
    return CTOKEN_MALFORMED;
  size_t exp_len = (size_t)(dot2 - exp);
  const char *mac = dot2 + 1;
  if (!uuid_ok(u, uuid_len) || exp_len == 0 || exp_len > 15 ||
      (size_t)(end - mac) != TOKEN_MAC_B64)
    return CTOKEN_MALFORMED;
  int64_t expires = 0;
  for (size_t i = 0; i < exp_len; i++) {
    if (exp[i] < '0' || exp[i] > '9')
      return CTOKEN_MALFORMED;
    expires = expires * 10 + (exp[i] - '0');
  }
  char want[TOKEN_MAC_B64 + 1];
  if (!token_mac(key, key_len, room_key, u, uuid_len, exp, exp_len, random, want) ||
      CRYPTO_memcmp(want, mac, TOKEN_MAC_B64) != 0)
    return CTOKEN_BAD_MAC;
  if (expires <= now_s)
    return CTOKEN_EXPIRED;
  if (uuid) {
    memcpy(uuid, u, uuid_len);
    uuid[uuid_len] = '\0';
  }
  return CTOKEN_OK;
}
