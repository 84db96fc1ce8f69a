/* cluster_auth — what nodes of one cluster prove to each other with the cluster secret:
 * the X-Parley-Relay header on relayed requests and the MAC in client API tokens that
 * any node can check. Pure functions over bytes; fuzzed in fuzz/fuzz_cluster_auth.c. */
#ifndef PARLEY_CLUSTER_AUTH_H
#define PARLEY_CLUSTER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_WINDOW_MS 30000 /* a relay header is accepted this long either side */
#define RELAY_HEADER_MAX 200  /* "<node-id> <unix-ms> <64 hex>" */
#define RELAY_NODE_ID_MAX 64  /* bytes of a node id, NUL included */

/* Writes "<node-id> <unix-ms> <hex HMAC-SHA256 of "node-id unix-ms method path">"; path
 * is the request target as sent (with its query). Returns its length, or -1 if it does
 * not fit (node ids are 1..63 bytes without spaces or control characters). */
int relay_header_sign(const uint8_t *key, size_t key_len, const char *node_id,
                      int64_t now_ms, const char *method, const char *path,
                      size_t path_len, char *out, size_t outlen);

typedef enum {
  RELAY_OK = 0,
  RELAY_MALFORMED = -1,
  RELAY_BAD_MAC = -2,
  RELAY_STALE = -3, /* outside RELAY_WINDOW_MS of now */
} relay_verdict;

/* Checks a header value (len bytes, not NUL-ended) for this method and path; on
 * RELAY_OK copies the sender's node id to node_id (RELAY_NODE_ID_MAX bytes). */
relay_verdict relay_header_verify(const uint8_t *key, size_t key_len, const char *value,
                                  size_t len, int64_t now_ms, const char *method,
                                  const char *path, size_t path_len,
                                  char node_id[RELAY_NODE_ID_MAX]);

/* Cluster tokens: "<random>.<participant uuid>.<expiry, unix s>.<mac>", where random is
 * the 43-character token a single node hands out, and mac is the first 16 bytes of
 * HMAC-SHA256 over (room_key, uuid, expiry, random), base64url. Clients treat it as
 * opaque; every character is URL-safe. */
#define CTOKEN_MAX 192 /* bytes, NUL included */

/* Returns the length written, or -1 (a uuid over 64 bytes, or not [0-9A-Za-z-]). */
int ctoken_make(const uint8_t *key, size_t key_len, const char *random43,
                const char *room_key, const char *uuid, int64_t expires_s, char *out,
                size_t outlen);

typedef enum {
  CTOKEN_OK = 0,
  CTOKEN_MALFORMED = -1,
  CTOKEN_BAD_MAC = -2, /* forged, or for another room */
  CTOKEN_EXPIRED = -3,
} ctoken_verdict;

/* Checks token (len bytes) for room_key at now_s; on CTOKEN_OK, uuid (65 bytes) gets
 * the participant's uuid when not NULL. */
ctoken_verdict ctoken_check(const uint8_t *key, size_t key_len, const char *token,
                            size_t len, const char *room_key, int64_t now_s, char *uuid);

#endif
