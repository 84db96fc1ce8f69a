/* stun — STUN parsing, integrity and fingerprint checks, binding responses. */
#include "rtc/stun.h"

#include "core/bytes.h"

#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <zlib.h>

#define FINGERPRINT_XOR 0x5354554eu
#define INTEGRITY_LEN 20

bool stun_looks_like(const uint8_t *buf, size_t len) {
  return len >= STUN_HEADER_LEN && buf[0] < 4 && rd32(buf + 4) == STUN_MAGIC_COOKIE &&
         (size_t)rd16(buf + 2) + STUN_HEADER_LEN == len && (rd16(buf + 2) & 3) == 0;
}

static int parse_xor_address(const uint8_t *v, size_t len, const uint8_t *tid,
                             stun_msg *msg) {
  if (len < 8)
    return -1;
  uint16_t port = rd16(v + 2) ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16);
  memset(&msg->xor_mapped, 0, sizeof msg->xor_mapped);
  if (v[1] == 1 && len == 8) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&msg->xor_mapped;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(rd32(v + 4) ^ STUN_MAGIC_COOKIE);
  } else if (v[1] == 2 && len == 20) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&msg->xor_mapped;
    uint8_t mask[16];
    wr32(mask, STUN_MAGIC_COOKIE);
    memcpy(mask + 4, tid, STUN_TID_LEN);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    for (int i = 0; i < 16; i++)
      sin6->sin6_addr.s6_addr[i] = v[4 + i] ^ mask[i];
  } else {
    return -1;
  }
  msg->has_xor_mapped = true;
  return 0;
}

/* One attribute; returns -1 if its length is wrong for its type. */
static int parse_attribute(uint16_t type, const uint8_t *v, size_t len, stun_msg *msg) {
  switch (type) {
  case STUN_ATTR_USERNAME:
    if (len > 513)
      return -1;
    msg->username = (const char *)v;
    msg->username_len = len;
    return 0;
  case STUN_ATTR_PRIORITY:
    if (len != 4)
      return -1;
    msg->priority = rd32(v);
    return 0;
  case STUN_ATTR_USE_CANDIDATE:
    msg->use_candidate = true;
    return len == 0 ? 0 : -1;
  case STUN_ATTR_ICE_CONTROLLING:
  case STUN_ATTR_ICE_CONTROLLED:
    if (len != 8)
      return -1;
    msg->tie_breaker = (uint64_t)rd32(v) << 32 | rd32(v + 4);
    msg->ice_controlling = type == STUN_ATTR_ICE_CONTROLLING;
    msg->ice_controlled = type == STUN_ATTR_ICE_CONTROLLED;
    return 0;
  case STUN_ATTR_ERROR_CODE:
    if (len < 4)
      return -1;
    msg->error_code = (v[2] & 7) * 100 + v[3];
    return 0;
  case STUN_ATTR_XOR_MAPPED_ADDRESS:
    return parse_xor_address(v, len, msg->tid, msg);
  default:
    return 0; /* unknown comprehension-optional attributes are ignored */
  }
}

int stun_parse(const uint8_t *buf, size_t len, stun_msg *msg) {
  if (!stun_looks_like(buf, len))
    return -1;
  memset(msg, 0, sizeof *msg);
  msg->type = rd16(buf);
  memcpy(msg->tid, buf + 8, STUN_TID_LEN);
  size_t at = STUN_HEADER_LEN;
  while (at < len) {
    if (len - at < 4 || msg->fingerprint_at)
      return -1; /* truncated header, or anything after FINGERPRINT */
    uint16_t type = rd16(buf + at), alen = rd16(buf + at + 2);
    size_t padded = ((size_t)alen + 3) & ~(size_t)3;
    if (padded > len - at - 4)
      return -1;
    const uint8_t *value = buf + at + 4;
    if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
      if (alen != INTEGRITY_LEN || msg->integrity_at)
        return -1;
      msg->integrity_at = at;
    } else if (type == STUN_ATTR_FINGERPRINT) {
      if (alen != 4)
        return -1;
      msg->fingerprint_at = at;
    } else if (!msg->integrity_at && parse_attribute(type, value, alen, msg) != 0) {
      /* Attributes after MESSAGE-INTEGRITY are not covered by it: ignored. */
      return -1;
    }
    at += 4 + padded;
  }
  return 0;
}

static _Thread_local EVP_MAC_CTX *hmac_ctx;

/* HMAC-SHA1 of the header (with a patched length) and the body before `end`. */
static bool hmac_sha1(const uint8_t *buf, size_t end, uint16_t patched_len,
                      const char *key, size_t key_len, uint8_t out[INTEGRITY_LEN]) {
  if (!hmac_ctx) {
    /* Fetched once per thread: OpenSSL 3's implicit per-call fetches are slow. */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hmac_ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
        OSSL_PARAM_construct_end()};
    if (!hmac_ctx || !EVP_MAC_CTX_set_params(hmac_ctx, params))
      return false;
  }
  uint8_t header[STUN_HEADER_LEN];
  memcpy(header, buf, STUN_HEADER_LEN);
  wr16(header + 2, patched_len);
  size_t n = 0;
  return EVP_MAC_init(hmac_ctx, (const unsigned char *)key, key_len, NULL) &&
         EVP_MAC_update(hmac_ctx, header, STUN_HEADER_LEN) &&
         EVP_MAC_update(hmac_ctx, buf + STUN_HEADER_LEN, end - STUN_HEADER_LEN) &&
         EVP_MAC_final(hmac_ctx, out, &n, INTEGRITY_LEN) && n == INTEGRITY_LEN;
}

void stun_thread_cleanup(void) {
  EVP_MAC_CTX_free(hmac_ctx);
  hmac_ctx = NULL;
}

bool stun_integrity_ok(const uint8_t *buf, const stun_msg *msg, const char *key,
                       size_t key_len) {
  if (!msg->integrity_at)
    return false;
  uint8_t mac[INTEGRITY_LEN];
  uint16_t covered = (uint16_t)(msg->integrity_at + 4 + INTEGRITY_LEN - STUN_HEADER_LEN);
  if (!hmac_sha1(buf, msg->integrity_at, covered, key, key_len, mac))
    return false;
  return CRYPTO_memcmp(mac, buf + msg->integrity_at + 4, INTEGRITY_LEN) == 0;
}

static uint32_t fingerprint(const uint8_t *buf, size_t end) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, buf, (uInt)end);
  return (uint32_t)crc ^ FINGERPRINT_XOR;
}

bool stun_fingerprint_ok(const uint8_t *buf, const stun_msg *msg) {
  if (!msg->fingerprint_at)
    return false;
  return fingerprint(buf, msg->fingerprint_at) == rd32(buf + msg->fingerprint_at + 4);
}

static size_t put_header(uint8_t *out, uint16_t type, const uint8_t *tid) {
  wr16(out, type);
  wr16(out + 2, 0);
  wr32(out + 4, STUN_MAGIC_COOKIE);
  memcpy(out + 8, tid, STUN_TID_LEN);
  return STUN_HEADER_LEN;
}

static size_t put_xor_address(uint8_t *p, const struct sockaddr *sa, const uint8_t *tid) {
  wr16(p, STUN_ATTR_XOR_MAPPED_ADDRESS);
  p[4] = 0;
  const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
  struct sockaddr_in mapped;
  if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
    /* A dual-stack port sees IPv4 peers as ::ffff:a.b.c.d; the peer sent from an IPv4
     * candidate and must learn an IPv4 address, or its pair never matches. */
    mapped = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = sin6->sin6_port};
    memcpy(&mapped.sin_addr, sin6->sin6_addr.s6_addr + 12, 4);
    sa = (const struct sockaddr *)&mapped;
  }
  if (sa->sa_family == AF_INET6) {
    uint8_t mask[16];
    wr32(mask, STUN_MAGIC_COOKIE);
    memcpy(mask + 4, tid, STUN_TID_LEN);
    wr16(p + 2, 20);
    p[5] = 2;
    wr16(p + 6, ntohs(sin6->sin6_port) ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16));
    for (int i = 0; i < 16; i++)
      p[8 + i] = sin6->sin6_addr.s6_addr[i] ^ mask[i];
    return 24;
  }
  const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
  wr16(p + 2, 8);
  p[5] = 1;
  wr16(p + 6, ntohs(sin->sin_port) ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16));
  wr32(p + 8, ntohl(sin->sin_addr.s_addr) ^ STUN_MAGIC_COOKIE);
  return 12;
}

static size_t put_fingerprint(uint8_t *out, size_t at) {
  wr16(out + 2, (uint16_t)(at + 8 - STUN_HEADER_LEN));
  wr16(out + at, STUN_ATTR_FINGERPRINT);
  wr16(out + at + 2, 4);
  wr32(out + at + 4, fingerprint(out, at));
  return at + 8;
}

/* MESSAGE-INTEGRITY over everything before it (the length field counting up to its
 * end), then FINGERPRINT: how every message we sign ends. Returns the total length. */
static size_t put_integrity_and_fingerprint(uint8_t *out, size_t at, const char *key,
                                            size_t key_len) {
  uint16_t covered = (uint16_t)(at + 4 + INTEGRITY_LEN - STUN_HEADER_LEN);
  wr16(out + 2, covered);
  wr16(out + at, STUN_ATTR_MESSAGE_INTEGRITY);
  wr16(out + at + 2, INTEGRITY_LEN);
  if (!hmac_sha1(out, at, covered, key, key_len, out + at + 4))
    return 0;
  at += 4 + INTEGRITY_LEN;
  return put_fingerprint(out, at);
}

size_t stun_build_binding_success(uint8_t *out, size_t cap,
                                  const uint8_t tid[STUN_TID_LEN],
                                  const struct sockaddr *mapped, const char *key,
                                  size_t key_len) {
  if (cap < STUN_HEADER_LEN + 24 + 24 + 8)
    return 0;
  size_t at = put_header(out, STUN_BINDING_SUCCESS, tid);
  at += put_xor_address(out + at, mapped, tid);
  return put_integrity_and_fingerprint(out, at, key, key_len);
}

size_t stun_build_binding_error(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                                int code, const char *reason) {
  size_t reason_len = strlen(reason);
  if (reason_len > 128)
    reason_len = 128;
  size_t padded = (reason_len + 3) & ~(size_t)3;
  if (cap < STUN_HEADER_LEN + 8 + padded + 8)
    return 0;
  size_t at = put_header(out, STUN_BINDING_ERROR, tid);
  wr16(out + at, STUN_ATTR_ERROR_CODE);
  wr16(out + at + 2, (uint16_t)(4 + reason_len));
  out[at + 4] = out[at + 5] = 0;
  out[at + 6] = (uint8_t)(code / 100);
  out[at + 7] = (uint8_t)(code % 100);
  memcpy(out + at + 8, reason, reason_len);
  memset(out + at + 8 + reason_len, 0, padded - reason_len);
  at += 8 + padded;
  return put_fingerprint(out, at);
}

size_t stun_build_binding_request(uint8_t *out, size_t cap,
                                  const uint8_t tid[STUN_TID_LEN], const char *username,
                                  uint32_t priority, uint64_t tie_breaker,
                                  bool use_candidate, const char *key, size_t key_len) {
  size_t ulen = strlen(username), padded = (ulen + 3) & ~(size_t)3;
  if (ulen > 513 || cap < STUN_HEADER_LEN + 4 + padded + 8 + 12 + 4 + 24 + 8)
    return 0;
  size_t at = put_header(out, STUN_BINDING_REQUEST, tid);
  wr16(out + at, STUN_ATTR_USERNAME);
  wr16(out + at + 2, (uint16_t)ulen);
  memcpy(out + at + 4, username, ulen);
  memset(out + at + 4 + ulen, 0, padded - ulen);
  at += 4 + padded;
  wr16(out + at, STUN_ATTR_PRIORITY);
  wr16(out + at + 2, 4);
  wr32(out + at + 4, priority);
  at += 8;
  wr16(out + at, STUN_ATTR_ICE_CONTROLLING);
  wr16(out + at + 2, 8);
  wr32(out + at + 4, (uint32_t)(tie_breaker >> 32));
  wr32(out + at + 8, (uint32_t)tie_breaker);
  at += 12;
  if (use_candidate) {
    wr16(out + at, STUN_ATTR_USE_CANDIDATE);
    wr16(out + at + 2, 0);
    at += 4;
  }
  return put_integrity_and_fingerprint(out, at, key, key_len);
}
