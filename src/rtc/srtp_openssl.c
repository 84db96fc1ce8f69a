/* srtp_openssl — OpenSSL-backed cipher and auth types for libsrtp2's crypto kernel.
 * libsrtp keeps doing SRTP (key derivation, ROC, replay, layout); we do the AES. */
#include "rtc/srtp_openssl.h"

#include "core/mem.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>
#include <srtp2/crypto_types.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>

/* Why: Debian builds libsrtp2 on NSS, whose AES-GCM costs ~0.9 µs per 1,200-byte packet
 * plus a lock, a context allocation and a free on every call; the fan-out protects every
 * copy, so that was a sixth of the forwarding path. OpenSSL's EVP is the same AES-NI work
 * without the per-call overhead. libsrtp's public "replace" API exists for this. */

#define GCM_IV_LEN 12
#define GCM_TAG_MAX 16
#define ICM_BLOCK 16
#define SHA1_LEN 20

/* ---------------------------------------------------------------- shared */

/* Either kind of cipher's state: an EVP context and what libsrtp told us at alloc. */
typedef struct {
  EVP_CIPHER_CTX *ctx;
  int key_size;
  int tag_len;             /* GCM */
  int encrypting;          /* GCM: the direction set_iv was given */
  uint8_t salt[ICM_BLOCK]; /* AES-CM: 14 bytes of salt, then the block counter's zeros */
} evp_state;

typedef evp_state icm_state;
typedef evp_state gcm_state;

/* libsrtp picks its AEAD path by `algorithm` and key lengths by type->id: both must be
 * the id of the type being replaced. */
static srtp_err_status_t evp_alloc(srtp_cipher_t **out, const srtp_cipher_type_t *type,
                                   int key_len, int key_size, int tag_len) {
  srtp_cipher_t *c = xcalloc(1, sizeof *c);
  evp_state *s = xcalloc(1, sizeof *s);
  if (!(s->ctx = EVP_CIPHER_CTX_new())) {
    free(c);
    free(s);
    return srtp_err_status_alloc_fail;
  }
  s->key_size = key_size;
  s->tag_len = tag_len;
  *c = (srtp_cipher_t){
      .type = type, .state = s, .key_len = key_len, .algorithm = (int)type->id};
  *out = c;
  return srtp_err_status_ok;
}

static srtp_err_status_t evp_dealloc(srtp_cipher_t *c) {
  evp_state *s = c->state;
  if (s) {
    EVP_CIPHER_CTX_free(s->ctx);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
  }
  free(c);
  return srtp_err_status_ok;
}

/* ---------------------------------------------------------------- AES counter mode */

static const srtp_cipher_type_t icm_128_type, icm_256_type;

static srtp_err_status_t icm_alloc(srtp_cipher_t **out, int key_len, int tag_len) {
  (void)tag_len;
  if (key_len == SRTP_AES_ICM_128_KEY_LEN_WSALT)
    return evp_alloc(out, &icm_128_type, key_len, SRTP_AES_128_KEY_LEN, 0);
  if (key_len == SRTP_AES_ICM_256_KEY_LEN_WSALT)
    return evp_alloc(out, &icm_256_type, key_len, SRTP_AES_256_KEY_LEN, 0);
  return srtp_err_status_bad_param;
}

/* key is the AES key followed by the 14-byte salt (libsrtp's "key with salt"). */
static srtp_err_status_t icm_init(void *state, const uint8_t *key) {
  icm_state *s = state;
  memset(s->salt, 0, sizeof s->salt);
  memcpy(s->salt, key + s->key_size, SRTP_SALT_LEN);
  const EVP_CIPHER *aes =
      s->key_size == SRTP_AES_128_KEY_LEN ? EVP_aes_128_ctr() : EVP_aes_256_ctr();
  if (!EVP_EncryptInit_ex(s->ctx, aes, NULL, key, NULL))
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

/* libsrtp hands the per-packet IV (SSRC and index in place); the counter block is that
 * XOR the salt. OpenSSL's CTR carries over all 128 bits where SRTP's counter has 16, the
 * same thing for any packet under 1 MiB. */
static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv,
                                    srtp_cipher_direction_t dir) {
  (void)dir;
  icm_state *s = state;
  uint8_t counter[ICM_BLOCK];
  for (int i = 0; i < ICM_BLOCK; i++)
    counter[i] = (uint8_t)(iv[i] ^ s->salt[i]);
  return EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, counter)
             ? srtp_err_status_ok
             : srtp_err_status_init_fail;
}

static srtp_err_status_t icm_crypt(void *state, uint8_t *buf, unsigned int *len) {
  icm_state *s = state;
  int out = 0;
  if (*len > INT32_MAX || !EVP_EncryptUpdate(s->ctx, buf, &out, buf, (int)*len) ||
      out != (int)*len)
    return srtp_err_status_cipher_fail;
  return srtp_err_status_ok;
}

/* ---------------------------------------------------------------- AES-GCM (RFC 7714) */

static const srtp_cipher_type_t gcm_128_type, gcm_256_type;

static srtp_err_status_t gcm_alloc(srtp_cipher_t **out, int key_len, int tag_len) {
  if (tag_len != 8 && tag_len != GCM_TAG_MAX)
    return srtp_err_status_bad_param;
  if (key_len == SRTP_AES_GCM_128_KEY_LEN_WSALT)
    return evp_alloc(out, &gcm_128_type, key_len, SRTP_AES_128_KEY_LEN, tag_len);
  if (key_len == SRTP_AES_GCM_256_KEY_LEN_WSALT)
    return evp_alloc(out, &gcm_256_type, key_len, SRTP_AES_256_KEY_LEN, tag_len);
  return srtp_err_status_bad_param;
}

/* key is the AES key (then the salt, which libsrtp folds into each IV itself). */
static srtp_err_status_t gcm_init(void *state, const uint8_t *key) {
  gcm_state *s = state;
  const EVP_CIPHER *aes =
      s->key_size == SRTP_AES_128_KEY_LEN ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  /* The IV length is RFC 7714's 12 bytes, OpenSSL's default for GCM. */
  if (!EVP_CipherInit_ex(s->ctx, aes, NULL, key, NULL, 1))
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv,
                                    srtp_cipher_direction_t dir) {
  gcm_state *s = state;
  if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
    return srtp_err_status_bad_param;
  s->encrypting = dir == srtp_direction_encrypt;
  return EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, iv, s->encrypting)
             ? srtp_err_status_ok
             : srtp_err_status_init_fail;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t len) {
  gcm_state *s = state;
  int out = 0;
  if (len > INT32_MAX || !EVP_CipherUpdate(s->ctx, NULL, &out, aad, (int)len))
    return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_state *s = state;
  int out = 0;
  if (!s->encrypting || *len > INT32_MAX ||
      !EVP_CipherUpdate(s->ctx, buf, &out, buf, (int)*len) || out != (int)*len)
    return srtp_err_status_cipher_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len) {
  gcm_state *s = state;
  uint8_t none[GCM_TAG_MAX];
  int out = 0;
  if (!EVP_CipherFinal_ex(s->ctx, none, &out) ||
      !EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, s->tag_len, tag))
    return srtp_err_status_algo_fail;
  *len = (uint32_t)s->tag_len;
  return srtp_err_status_ok;
}

/* buf holds ciphertext then the tag; on success *len loses the tag. A wrong tag is an
 * auth failure: libsrtp then drops the packet (the caller counts it). */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_state *s = state;
  if (s->encrypting || *len < (unsigned)s->tag_len || *len > INT32_MAX)
    return srtp_err_status_bad_param;
  int text = (int)*len - s->tag_len, out = 0;
  uint8_t none[GCM_TAG_MAX];
  if (!EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, s->tag_len, buf + text) ||
      !EVP_CipherUpdate(s->ctx, buf, &out, buf, text) || out != text)
    return srtp_err_status_cipher_fail;
  if (!EVP_CipherFinal_ex(s->ctx, none, &out))
    return srtp_err_status_auth_fail;
  *len = (unsigned)text;
  return srtp_err_status_ok;
}

/* ------------------------------------------------------------- HMAC-SHA1 (RFC 3711) */

typedef struct {
  EVP_MAC_CTX *ctx;
} hmac_state;

static EVP_MAC *hmac_algorithm; /* fetched once by srtp_openssl_install */
static const srtp_auth_type_t hmac_type;

static srtp_err_status_t hmac_alloc(srtp_auth_t **out, int key_len, int out_len) {
  if (out_len < 0 || out_len > SHA1_LEN || key_len < 0)
    return srtp_err_status_bad_param;
  srtp_auth_t *a = xcalloc(1, sizeof *a);
  hmac_state *s = xcalloc(1, sizeof *s);
  if (!(s->ctx = EVP_MAC_CTX_new(hmac_algorithm))) {
    free(a);
    free(s);
    return srtp_err_status_alloc_fail;
  }
  a->type = &hmac_type;
  a->state = s;
  a->out_len = out_len;
  a->key_len = key_len;
  a->prefix_len = 0;
  *out = a;
  return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_t *a) {
  hmac_state *s = a->state;
  if (s) {
    EVP_MAC_CTX_free(s->ctx);
    free(s);
  }
  OPENSSL_cleanse(a, sizeof *a);
  free(a);
  return srtp_err_status_ok;
}

static srtp_err_status_t hmac_init(void *state, const uint8_t *key, int key_len) {
  hmac_state *s = state;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
      OSSL_PARAM_construct_end()};
  return EVP_MAC_init(s->ctx, key, (size_t)key_len, params) ? srtp_err_status_ok
                                                            : srtp_err_status_auth_fail;
}

/* OpenSSL ≥ 3.0.3 restarts an HMAC with the key it already has (NULL key). */
static srtp_err_status_t hmac_start(void *state) {
  hmac_state *s = state;
  return EVP_MAC_init(s->ctx, NULL, 0, NULL) ? srtp_err_status_ok
                                             : srtp_err_status_auth_fail;
}

static srtp_err_status_t hmac_update(void *state, const uint8_t *data, int len) {
  hmac_state *s = state;
  return len >= 0 && EVP_MAC_update(s->ctx, data, (size_t)len)
             ? srtp_err_status_ok
             : srtp_err_status_auth_fail;
}

static srtp_err_status_t hmac_compute(void *state, const uint8_t *data, int len,
                                      int tag_len, uint8_t *tag) {
  hmac_state *s = state;
  uint8_t digest[SHA1_LEN];
  size_t digest_len = 0;
  if (tag_len < 0 || tag_len > SHA1_LEN ||
      hmac_update(s, data, len) != srtp_err_status_ok ||
      !EVP_MAC_final(s->ctx, digest, &digest_len, sizeof digest) ||
      digest_len != SHA1_LEN)
    return srtp_err_status_auth_fail;
  memcpy(tag, digest, (size_t)tag_len);
  return srtp_err_status_ok;
}

/* ---------------------------------------------------------------- known answers */
/* Our own vectors, checked at install beside libsrtp's: RFC 3711 B.2 (AES-128-CM key
 * stream), RFC 6188 7.1 (AES-256-CM), the GCM spec's test cases 4 and 16 (60 bytes of
 * text, 20 of AAD), RFC 2202 case 1 (HMAC-SHA1). */

static const uint8_t icm_128_key[SRTP_AES_ICM_128_KEY_LEN_WSALT] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7,
    0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c, 0xf0, 0xf1, 0xf2, 0xf3,
    0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};
static const uint8_t icm_256_key[SRTP_AES_ICM_256_KEY_LEN_WSALT] = {
    0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70, 0xa8, 0x5e, 0xc9, 0x3c,
    0x40, 0xb1, 0xf0, 0x92, 0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82,
    0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98, 0xf0, 0xf1, 0xf2, 0xf3,
    0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};
static uint8_t icm_iv[ICM_BLOCK]; /* SSRC 0, index 0: the counter is the salt */
static const uint8_t zeros[48];
static const uint8_t icm_128_stream[48] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d,
    0xd9, 0x2b, 0x4e, 0xb4, 0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7,
    0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab, 0x41, 0xe9, 0x5b, 0x3b,
    0xb0, 0xa2, 0xe8, 0xdd, 0x47, 0x79, 0x01, 0xe4, 0xfc, 0xa8, 0x94, 0xc0};
static const uint8_t icm_256_stream[48] = {
    0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25, 0x11, 0xc6, 0x77, 0xd0,
    0x8b, 0x55, 0x15, 0xa4, 0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8, 0x54, 0xf6,
    0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac, 0x63, 0xc4, 0x86, 0x8b,
    0x70, 0x96, 0xd8, 0x84, 0x21, 0xb5, 0x63, 0xb8, 0xc9, 0x4c, 0x9a, 0x31};

/* GCM keys carry 12 bytes of salt after the key; libsrtp's IV already includes it. */
static const uint8_t gcm_128_key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
    0x83, 0x08, 0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static const uint8_t gcm_256_key[SRTP_AES_GCM_256_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f,
    0x94, 0x67, 0x30, 0x83, 0x08, 0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65,
    0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08, 0xca,
    0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static uint8_t gcm_iv[GCM_IV_LEN] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce,
                                     0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static const uint8_t gcm_aad[20] = {0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe,
                                    0xef, 0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad,
                                    0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2};
static const uint8_t gcm_plain[60] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5,
    0xaf, 0xf5, 0x26, 0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda,
    0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31, 0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95,
    0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49, 0xa6, 0xb5, 0x25,
    0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39};
static const uint8_t gcm_128_sealed[76] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84,
    0xd0, 0xd4, 0x9c, 0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1,
    0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e, 0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93,
    0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05, 0x1b, 0xa3, 0x0b, 0x39,
    0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91, 0x5b, 0xc9, 0x4f, 0xbc, 0x32,
    0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47};
static const uint8_t gcm_256_sealed[76] = {
    0x52, 0x2d, 0xc1, 0xf0, 0x99, 0x56, 0x7d, 0x07, 0xf4, 0x7f, 0x37, 0xa3, 0x2a,
    0x84, 0x42, 0x7d, 0x64, 0x3a, 0x8c, 0xdc, 0xbf, 0xe5, 0xc0, 0xc9, 0x75, 0x98,
    0xa2, 0xbd, 0x25, 0x55, 0xd1, 0xaa, 0x8c, 0xb0, 0x8e, 0x48, 0x59, 0x0d, 0xbb,
    0x3d, 0xa7, 0xb0, 0x8b, 0x10, 0x56, 0x82, 0x88, 0x38, 0xc5, 0xf6, 0x1e, 0x63,
    0x93, 0xba, 0x7a, 0x0a, 0xbc, 0xc9, 0xf6, 0x62, 0x76, 0xfc, 0x6e, 0xce, 0x0f,
    0x4e, 0x17, 0x68, 0xcd, 0xdf, 0x88, 0x53, 0xbb, 0x2d, 0x55, 0x1b};

static const uint8_t hmac_key[SHA1_LEN] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                           0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                           0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t hmac_tag[SHA1_LEN] = {0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72,
                                           0x64, 0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37,
                                           0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};

#define CIPHER_CASE(k, iv, plain, sealed, aad_bytes, aad_len, tag)                       \
  {                                                                                      \
    .key_length_octets = sizeof k, .key = k, .idx = iv,                                  \
    .plaintext_length_octets = sizeof plain, .plaintext = plain,                         \
    .ciphertext_length_octets = sizeof sealed, .ciphertext = sealed,                     \
    .aad_length_octets = aad_len, .aad = aad_bytes, .tag_length_octets = tag             \
  }

static const srtp_cipher_test_case_t icm_128_case =
    CIPHER_CASE(icm_128_key, icm_iv, zeros, icm_128_stream, NULL, 0, 0);
static const srtp_cipher_test_case_t icm_256_case =
    CIPHER_CASE(icm_256_key, icm_iv, zeros, icm_256_stream, NULL, 0, 0);
static const srtp_cipher_test_case_t gcm_128_case = CIPHER_CASE(
    gcm_128_key, gcm_iv, gcm_plain, gcm_128_sealed, gcm_aad, sizeof gcm_aad, GCM_TAG_MAX);
static const srtp_cipher_test_case_t gcm_256_case = CIPHER_CASE(
    gcm_256_key, gcm_iv, gcm_plain, gcm_256_sealed, gcm_aad, sizeof gcm_aad, GCM_TAG_MAX);
static const srtp_auth_test_case_t hmac_case = {.key_length_octets = sizeof hmac_key,
                                                .key = hmac_key,
                                                .data_length_octets = 8,
                                                .data = (const uint8_t *)"Hi There",
                                                .tag_length_octets = sizeof hmac_tag,
                                                .tag = hmac_tag};

/* ---------------------------------------------------------------- the types */

#define ICM_TYPE(name, test, type_id)                                                    \
  {                                                                                      \
    .alloc = icm_alloc, .dealloc = evp_dealloc, .init = icm_init, .encrypt = icm_crypt,  \
    .decrypt = icm_crypt, .set_iv = icm_set_iv, .description = name, .test_data = test,  \
    .id = type_id                                                                        \
  }
#define GCM_TYPE(name, test, type_id)                                                    \
  {                                                                                      \
    .alloc = gcm_alloc, .dealloc = evp_dealloc, .init = gcm_init,                        \
    .set_aad = gcm_set_aad, .encrypt = gcm_encrypt, .decrypt = gcm_decrypt,              \
    .set_iv = gcm_set_iv, .get_tag = gcm_get_tag, .description = name,                   \
    .test_data = test, .id = type_id                                                     \
  }

static const srtp_cipher_type_t icm_128_type =
    ICM_TYPE("AES-128 counter mode on OpenSSL (Parley)", &icm_128_case, SRTP_AES_ICM_128);
static const srtp_cipher_type_t icm_256_type =
    ICM_TYPE("AES-256 counter mode on OpenSSL (Parley)", &icm_256_case, SRTP_AES_ICM_256);
static const srtp_cipher_type_t gcm_128_type =
    GCM_TYPE("AES-128 GCM on OpenSSL (Parley)", &gcm_128_case, SRTP_AES_GCM_128);
static const srtp_cipher_type_t gcm_256_type =
    GCM_TYPE("AES-256 GCM on OpenSSL (Parley)", &gcm_256_case, SRTP_AES_GCM_256);
static const srtp_auth_type_t hmac_type = {.alloc = hmac_alloc,
                                           .dealloc = hmac_dealloc,
                                           .init = hmac_init,
                                           .compute = hmac_compute,
                                           .update = hmac_update,
                                           .start = hmac_start,
                                           .description = "HMAC-SHA1 on OpenSSL (Parley)",
                                           .test_data = &hmac_case,
                                           .id = SRTP_HMAC_SHA1};

static int installed;

int srtp_openssl_install(void) {
  if (installed)
    return 0;
  if (!hmac_algorithm && !(hmac_algorithm = EVP_MAC_fetch(NULL, "HMAC", NULL)))
    return -1;
  /* The auth type first: a failure after a cipher was replaced would leave a mix, which
   * works (each type is self-contained) but is not what `installed` reports. */
  if (srtp_replace_auth_type(&hmac_type, SRTP_HMAC_SHA1) != srtp_err_status_ok ||
      srtp_replace_cipher_type(&icm_128_type, SRTP_AES_ICM_128) != srtp_err_status_ok ||
      srtp_replace_cipher_type(&icm_256_type, SRTP_AES_ICM_256) != srtp_err_status_ok ||
      srtp_replace_cipher_type(&gcm_128_type, SRTP_AES_GCM_128) != srtp_err_status_ok ||
      srtp_replace_cipher_type(&gcm_256_type, SRTP_AES_GCM_256) != srtp_err_status_ok)
    return -1;
  installed = 1;
  return 0;
}

int srtp_openssl_installed(void) { return installed; }
