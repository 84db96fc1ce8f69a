/* stun — STUN messages as ICE-lite needs them (RFC 8489, RFC 8445): parse a datagram,
 * check MESSAGE-INTEGRITY and FINGERPRINT, and build binding responses. No allocation. */
#ifndef PARLEY_STUN_H
#define PARLEY_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN 20
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_TID_LEN 12

enum {
  STUN_BINDING_REQUEST = 0x0001,
  STUN_BINDING_INDICATION = 0x0011,
  STUN_BINDING_SUCCESS = 0x0101,
  STUN_BINDING_ERROR = 0x0111,
};

enum {
  STUN_ATTR_MAPPED_ADDRESS = 0x0001,
  STUN_ATTR_USERNAME = 0x0006,
  STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
  STUN_ATTR_ERROR_CODE = 0x0009,
  STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  STUN_ATTR_PRIORITY = 0x0024,
  STUN_ATTR_USE_CANDIDATE = 0x0025,
  STUN_ATTR_SOFTWARE = 0x8022,
  STUN_ATTR_FINGERPRINT = 0x8028,
  STUN_ATTR_ICE_CONTROLLED = 0x8029,
  STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

/* A parsed message; pointers refer into the datagram it came from. */
typedef struct {
  uint16_t type;
  uint8_t tid[STUN_TID_LEN];
  const char *username;
  size_t username_len;
  size_t integrity_at;   /* offset of the MESSAGE-INTEGRITY attribute, 0 if none */
  size_t fingerprint_at; /* offset of the FINGERPRINT attribute, 0 if none */
  uint32_t priority;
  bool use_candidate, ice_controlling, ice_controlled;
  uint64_t tie_breaker;
  int error_code; /* 0 if none */
  bool has_xor_mapped;
  struct sockaddr_storage xor_mapped;
} stun_msg;

/* Cheap test for demultiplexing a datagram from DTLS and RTP (RFC 7983): first
 * byte 0..3, the magic cookie, and a length that fits. */
bool stun_looks_like(const uint8_t *buf, size_t len);
/* Parses; returns 0, or -1 for anything malformed (the datagram is dropped). */
int stun_parse(const uint8_t *buf, size_t len, stun_msg *msg);
/* MESSAGE-INTEGRITY (HMAC-SHA1) with a short-term key (the ICE password). */
bool stun_integrity_ok(const uint8_t *buf, const stun_msg *msg, const char *key,
                       size_t key_len);
bool stun_fingerprint_ok(const uint8_t *buf, const stun_msg *msg);

/* Frees this thread's cached HMAC context; call before a thread that used STUN exits. */
void stun_thread_cleanup(void);

/* Writes a Binding success response to a request: XOR-MAPPED-ADDRESS of the
 * request's source, MESSAGE-INTEGRITY with key and FINGERPRINT. Returns its
 * length, or 0 if cap is too small. */
size_t stun_build_binding_success(uint8_t *out, size_t cap,
                                  const uint8_t tid[STUN_TID_LEN],
                                  const struct sockaddr *mapped, const char *key,
                                  size_t key_len);
/* Writes a Binding request as a controlling agent sends it (load clients and
 * tests play the browser): USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE if
 * asked, MESSAGE-INTEGRITY with key, FINGERPRINT. Returns its length or 0. */
size_t stun_build_binding_request(uint8_t *out, size_t cap,
                                  const uint8_t tid[STUN_TID_LEN], const char *username,
                                  uint32_t priority, uint64_t tie_breaker,
                                  bool use_candidate, const char *key, size_t key_len);
/* Writes a Binding error response (e.g. 400, 401, 487) with FINGERPRINT. */
size_t stun_build_binding_error(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                                int code, const char *reason);

#endif
