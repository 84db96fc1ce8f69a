/* capi — a client of the conference client API v2 (../shared/protocol/client-api-v2.md)
 * on a libuv loop: request_token, refresh_token on a timer, the SSE event stream, any
 * conference call, release_token. Requests go through http/client.h (libcurl multi), so
 * nothing blocks the loop and events keep arriving while a call is in flight. */
#ifndef PARLEY_CLIENT_CAPI_H
#define PARLEY_CLIENT_CAPI_H

#include "http/client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct {
  const char *host; /* name or IP literal (IPv6 without brackets) */
  uint16_t port;
  const char *resolve; /* "HOST:PORT:ADDRS" for curl, or NULL to let curl resolve */
  bool plain_http;     /* http:// instead of https:// (testing) */
  const char *ca_file; /* NULL = the system's CAs */
  bool insecure;       /* no certificate verification */
  int timeout_ms;      /* per request; 0 = 10 s */
} capi_endpoint;

typedef struct {
  int status;         /* HTTP status, 0 when no answer came */
  bool not_connected; /* no connection could be made */
  const char *error;  /* transport error ("" when an answer came) */
  json_t *body;       /* the JSON envelope (borrowed), or NULL */
  json_t *result;     /* its "result", or NULL */
} capi_reply;
typedef void (*capi_cb)(const capi_reply *r, void *ud);

typedef struct {
  /* One SSE event; data is the parsed JSON (json null when it was not JSON). */
  void (*on_event)(const char *name, json_t *data, void *ud);
  /* The session is over for a reason other than capi_release: the token was refused on
   * refresh, or the event stream could not be reopened. */
  void (*on_fail)(const char *why, void *ud);
} capi_session_cbs;

typedef struct capi capi;

capi *capi_new(uv_loop_t *loop, http_client *http, const capi_endpoint *ep,
               const char *alias);
/* Cancels every call in flight (no callbacks) and stops the timers and the stream. */
void capi_free(capi *c);

/* POST request_token with display_name and the pin header (NULL: none sent). On 200 the
 * token, participant uuid, role and expiry are kept for what follows. */
void capi_request_token(capi *c, const char *display_name, const char *pin, capi_cb cb,
                        void *ud);
/* Starts refresh_token every expires/3 s and the event stream. */
void capi_start_session(capi *c, const capi_session_cbs *cbs, void *ud);
/* A conference-level call with the token: method "GET" or "POST", path after the alias
 * (e.g. "lock", "participants/<uuid>/disconnect"), body (stolen; NULL for none). */
void capi_call(capi *c, const char *method, const char *path, json_t *body, capi_cb cb,
               void *ud);
/* Stops refreshing and the stream, then POSTs release_token. */
void capi_release(capi *c, capi_cb cb, void *ud);

const char *capi_token(const capi *c);
const char *capi_participant_uuid(const capi *c);
const char *capi_role(const capi *c);   /* "HOST" or "GUEST" */
const char *capi_target(const capi *c); /* "host:port" */
unsigned capi_refreshes(const capi *c); /* successful refresh_token calls */

/* Percent-encodes s for a URL path segment into out; false when it does not fit. */
bool capi_escape(const char *s, char *out, size_t n);

#endif
