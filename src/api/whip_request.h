/* whip_request — the pure part of WHIP ingest (RFC 9725, docs/PUBSUB.md "WHIP"): the
 * request path (endpoint or resource), the Content-Type and Authorization headers, and
 * the Link headers that carry ICE servers. No I/O; fuzzed by fuzz/fuzz_whip_request.c. */
#ifndef PARLEY_WHIP_REQUEST_H
#define PARLEY_WHIP_REQUEST_H

#include "auth/credentials.h"
#include "core/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define WHIP_PREFIX "/api/rtc/v1/whip/"
/* A resource id: random, base64url (ids_token): knowing it is what allows DELETE. */
#define WHIP_RID_MAX 64

typedef enum {
  WHIP_ENDPOINT = 1, /* /api/rtc/v1/whip/<sid>: POST an offer */
  WHIP_RESOURCE,     /* /api/rtc/v1/whip/<sid>/<rid>: DELETE, PATCH */
} whip_kind;

typedef struct {
  whip_kind kind;
  char sid[PUBSUB_ID_MAX + 1];
  char rid[WHIP_RID_MAX + 1]; /* "" for the endpoint */
} whip_route;

/* 0 and out filled; -1 when the path is not under WHIP_PREFIX; -2 when it is but names
 * nothing valid (a bad sid or resource id, more segments, a bad %-escape). */
int whip_route_parse(const char *path, size_t len, whip_route *out);

/* Whether a Content-Type header value is application/sdp (any case, parameters and
 * spaces allowed after a ';'). */
bool whip_content_type_is_sdp(const char *value, size_t len);

/* The token of "Authorization: Bearer <token>" (scheme in any case) copied into out
 * (NUL-terminated): 0, or -1 when the value is not a Bearer credential or the token is
 * empty, holds a space or control byte, or does not fit cap. */
int whip_bearer(const char *value, size_t len, char *out, size_t cap);

/* Whether a bearer token looks like an API key ("pk_" and API_KEY_LEN long) rather
 * than a JWT. */
bool whip_token_is_key(const char *token);

/* RFC 9725 §4.6: one Link header value per ICE server URL of an RTCIceServer[] array
 * (ice_servers_json): `<url>; rel="ice-server"`, with username, credential and
 * credential-type "password" when the server has them. Calls add(ud, value, len) for
 * each; a URL or credential holding '"', '>' or a control byte is skipped. Returns
 * how many were added. */
size_t whip_link_headers(const json_t *ice_servers,
                         void (*add)(void *ud, const char *value, size_t len), void *ud);

#endif
