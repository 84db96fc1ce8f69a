/* policy — the external policy client (client API §E): asks a Pexip-compatible policy
 * server for service configuration, participant properties, media location and avatars
 * over the shared libcurl multi handle, never blocking the loop, each request within
 * --policy-timeout; every failure is reported as a fallback to the local store. */
#ifndef PARLEY_POLICY_H
#define PARLEY_POLICY_H

#include "core/buf.h"
#include "core/config.h"
#include "policy/policy_response.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct policy policy;
typedef struct policy_call policy_call;

typedef enum {
  POLICY_KIND_SERVICE,
  POLICY_KIND_PARTICIPANT,
  POLICY_KIND_LOCATION,
  POLICY_KIND_AVATAR,
  POLICY_KINDS
} policy_kind;

/* What parleyd knows of a call; every field may be NULL ("" is sent). */
typedef struct {
  const char *local_alias;         /* the alias dialled */
  const char *remote_alias;        /* the caller's alias (a web client: its name) */
  const char *remote_display_name; /* display_name of request_token */
  const char *remote_address;      /* the client's IP */
  const char *call_tag;
  const char *vendor; /* User-Agent */
  bool supports_direct_media;
  /* participant properties, media location, avatar */
  const char *participant_uuid;
  const char *preauthenticated_role; /* "chair", "guest" or "" (not known yet) */
  const char *service_name, *service_tag;
  const char *role; /* avatar: chair, guest or unknown */
  int width, height;
  int timeout_ms; /* this request's budget; 0 = --policy-timeout */
} policy_params;

/* NULL when cfg has no --policy-url. */
policy *policy_new(uv_loop_t *loop, const config *cfg);
/* Abandons requests in flight (no callbacks) and frees everything. */
void policy_free(policy *p);
/* Whether this kind of request is asked (its switch is on). */
bool policy_asks(const policy *p, policy_kind kind);

/* Each callback runs once, on the loop, never from inside the ask. The answer is
 * valid only during the callback (a service's rec may be taken: set ans->rec NULL). */
typedef void (*policy_service_cb)(policy_service *ans, void *ud);
typedef void (*policy_participant_cb)(const policy_participant *ans, void *ud);
typedef void (*policy_location_cb)(const policy_location *ans, void *ud);
/* jpeg NULL: no image (fall back to 404). */
typedef void (*policy_avatar_cb)(const char *jpeg, size_t len, void *ud);

policy_call *policy_ask_service(policy *p, const policy_params *q, policy_service_cb cb,
                                void *ud);
policy_call *policy_ask_participant(policy *p, const policy_params *q,
                                    policy_participant_cb cb, void *ud);
/* cb may be NULL: the answer is then only logged (and the call is the client's own,
 * freed with it). */
policy_call *policy_ask_location(policy *p, const policy_params *q, policy_location_cb cb,
                                 void *ud);
/* The image asked for the same (alias, width, height) within the last minute, if
 * any: *jpeg stays valid until the loop runs again. */
bool policy_avatar_cached(policy *p, const policy_params *q, const char **jpeg,
                          size_t *len);
/* Asks the server (and caches what it gives). */
policy_call *policy_ask_avatar(policy *p, const policy_params *q, policy_avatar_cb cb,
                               void *ud);
/* Stops a call; its callback is not called. NULL is ignored. */
void policy_call_cancel(policy_call *call);

/* Appends "k=v" pairs, percent-encoded (RFC 3986 unreserved kept), to out. */
void policy_query_add(buf *out, const char *key, const char *value);

/* parley_policy_requests_total{type,outcome}, parley_policy_request_seconds{type}. */
void policy_metrics(const policy *p, buf *out);

#endif
