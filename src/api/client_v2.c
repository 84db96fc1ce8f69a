/* client_v2 — the client API v2 translator: authenticates each request, checks its
 * body, and dispatches conference-level actions to the conference core (§A, §B.1). */
#include "api/api.h"

#include "api/multipart.h"
#include "api/whip.h"
#include "core/log.h"
#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  const char *method;
  void (*fn)(api_call *c);
} action;

static void refresh_token(api_call *c) {
  char token[CONF_TOKEN_MAX];
  conf_refresh_token(c->self, token);
  char expires[16];
  snprintf(expires, sizeof expires, "%d", conf_token_lifetime(c->api->core));
  reply_result(c, json_pack("{s:s, s:s, s:s}", "token", token, "expires", expires, "role",
                            c->self->role == ROLE_HOST ? "HOST" : "GUEST"));
}

static void release_token(api_call *c) {
  conf_leave(c->self, "User initiated disconnect");
  reply_bool(c, true);
}

static void theme(api_call *c) {
  /* No custom theme: the client keeps its own look (client API §B.1). */
  http_respond(c->req, 204, NULL, "", 0);
}

static void conference_status(api_call *c) {
  reply_result(c, conf_room_status_json(c->self->room));
}

static void participants(api_call *c) {
  reply_result(c, conf_room_participants_json(c->self->room, c->self));
}

static void lock(api_call *c) { reply_status(c, conf_set_locked(c->self, true)); }
static void unlock(api_call *c) { reply_status(c, conf_set_locked(c->self, false)); }
static void start_conference(api_call *c) { reply_status(c, conf_start(c->self)); }
static void muteguests(api_call *c) { reply_status(c, conf_mute_guests(c->self, true)); }
static void unmuteguests(api_call *c) {
  reply_status(c, conf_mute_guests(c->self, false));
}
static void disconnect_all(api_call *c) { reply_status(c, conf_end_for_all(c->self)); }
static void clearallbuzz(api_call *c) { reply_status(c, conf_clear_all_buzz(c->self)); }

static void set_guests_can_unmute(api_call *c) {
  refusal err;
  bool setting = false;
  if (body_bool(c->body, "setting", true, &setting, &err) != 0)
    return reply_failed(c, err.status, err.message);
  reply_status(c, conf_set_guests_can_unmute(c->self, setting));
}

static void message(api_call *c) {
  refusal err;
  const char *type, *payload;
  if (body_string(c->body, "type", true, &type, &err) != 0 ||
      body_string(c->body, "payload", true, &payload, &err) != 0)
    return reply_failed(c, err.status, err.message);
  reply_status(c, conf_chat(c->self, NULL, type, payload));
}

static void transform_layout(api_call *c) {
  json_t *transforms = c->body ? json_object_get(c->body, "transforms") : NULL;
  if (!json_is_object(transforms))
    return reply_failed(c, 400, "Missing object \"transforms\"");
  reply_status(c, conf_transform_layout(c->self, transforms));
}

static void available_layouts(api_call *c) {
  size_t n;
  const char *const *names = conf_layouts(&n);
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(list, json_string(names[i]));
  reply_result(c, list);
}

/* Image slides (client API §D.4): the presenter posts a multipart frame. */
static void presentation_post(api_call *c) {
  size_t ct_len = 0;
  const char *ct = http_header(c->req, "content-type", &ct_len);
  multipart_part part;
  char err[120];
  if (multipart_find(c->req->entity.base, c->req->entity.base ? c->req->entity.len : 0,
                     ct, ct_len, "frame", &part, err, sizeof err) != 0)
    return reply_failed(c, 400, err);
  reply_status(c, conf_slide_post(c->self, part.data, part.len, part.type));
}

/* presentation.jpeg, presentation_high.jpeg, presentation.png ?id=<frame id> */
static void presentation_get(api_call *c) {
  size_t qlen;
  const char *q = http_query(c->req, &qlen);
  char id_text[24];
  uint64_t id = 0;
  if (q && url_query_param(q, qlen, "id", id_text, sizeof id_text) > 0)
    id = strtoull(id_text, NULL, 10);
  const char *data, *type;
  size_t len;
  if (c->self->waiting) /* the waiting room does not see the slides (§F) */
    return reply_failed(c, 403, "Not admitted to the conference yet");
  if (!conf_slide_get(c->self->room, id, &data, &len, &type))
    return reply_failed(c, 404, "No presentation frame available");
  http_respond(c->req, 200, type, data, len);
}

static const action conference_actions[] = {
    {"refresh_token", "POST", refresh_token},
    {"release_token", "POST", release_token},
    {"events", "GET", client_v2_events},
    {"theme/", "GET", theme},
    {"conference_status", "GET", conference_status},
    {"participants", "GET", participants},
    {"lock", "POST", lock},
    {"unlock", "POST", unlock},
    {"start_conference", "POST", start_conference},
    {"muteguests", "POST", muteguests},
    {"unmuteguests", "POST", unmuteguests},
    {"set_guests_can_unmute", "POST", set_guests_can_unmute},
    {"disconnect", "POST", disconnect_all},
    {"message", "POST", message},
    {"transform_layout", "POST", transform_layout},
    {"clearallbuzz", "POST", clearallbuzz},
    {"available_layouts", "GET", available_layouts},
    {"presentation", "POST", presentation_post},
    {"presentation.jpeg", "GET", presentation_get},
    {"presentation_high.jpeg", "GET", presentation_get},
    {"presentation.png", "GET", presentation_get},
};

/* Features of the client API Parley does not offer (yet): a clear JSON 403,
 * which every client schema accepts, never a crash or an HTML page. */
static const char *const unsupported[] = {
    "dial",
    "silent_video_detection",
    "layout_svgs",
    "breakoutbuzz",
    "clearbreakoutbuzz",
    "leavebreakout",
    "video_mixes",
    "breakouts",
    "presentation",
    "set_classification_level",
    "get_classification_level",
};

static bool run_action(api_call *c, const action *table, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(table[i].name, c->route.action) != 0)
      continue;
    if (!http_method_is(c->req, table[i].method)) {
      char msg[80];
      snprintf(msg, sizeof msg, "Method not allowed: use %s", table[i].method);
      reply_failed(c, 405, msg);
    } else {
      table[i].fn(c);
    }
    return true;
  }
  return false;
}

bool client_v2_conference(api_call *c) {
  const char *a = c->route.action;
  bool takes_sub = strcmp(a, "breakouts") == 0 || strcmp(a, "video_mixes") == 0;
  if (c->route.sub[0] && !takes_sub) {
    if (strcmp(a, "theme") == 0)
      return reply_failed(c, 404, "No theme image"), true;
    return false;
  }
  if (run_action(c, conference_actions,
                 sizeof conference_actions / sizeof *conference_actions))
    return true;
  for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
    if (strcmp(unsupported[i], a) == 0) {
      char msg[120];
      snprintf(msg, sizeof msg, "Not supported by this server: %s", a);
      return reply_failed(c, 403, msg), true;
    }
  return false;
}

/* The token comes in the "token" header or, for EventSource, beacons and
 * images, as ?token= (client API §A.4). */
bool api_read_token(h2o_req_t *req, char *out, size_t outlen) {
  size_t len;
  const char *h = http_header(req, "token", &len);
  if (h) {
    if (len >= outlen)
      return false;
    memcpy(out, h, len);
    out[len] = '\0';
    return true;
  }
  const char *q = http_query(req, &len);
  return q && url_query_param(q, len, "token", out, outlen) >= 0;
}

static void dispatch(api_call *c) {
  if (c->route.kind == ROUTE_CONFERENCE &&
      strcmp(c->route.action, "request_token") == 0) {
    if (!http_method_is(c->req, "POST"))
      return reply_failed(c, 405, "Method not allowed: use POST");
    return client_v2_request_token(c);
  }
  char token[CONF_TOKEN_MAX];
  if (!api_read_token(c->req, token, sizeof token) ||
      !(c->self = conf_authenticate(c->api->core, c->route.alias, token)))
    return reply_failed(c, 403, "Invalid token");
  if (c->route.kind != ROUTE_CONFERENCE) {
    c->target = conf_find_participant(c->self->room, c->route.participant);
    if (!c->target)
      return reply_failed(c, 404, "Participant not found");
  }
  bool known = c->route.kind == ROUTE_CONFERENCE ? client_v2_conference(c)
                                                 : client_v2_participant(c);
  if (!known)
    reply_failed(c, 404, "Unknown endpoint");
}

void api_handle(void *ud, h2o_req_t *req) {
  api_call c = {.api = ud, .req = req};
  if (whip_handle(c.api, req)) /* before the preflight: WHIP answers its own */
    return;
  if (http_method_is(req, "OPTIONS"))
    return http_respond_preflight(req);
  if (rtm_api_handle(c.api, req) || rtc_ws_handle(c.api, req))
    return;
  const char *path;
  size_t len;
  http_path(req, &path, &len);
  int rc = api_route_parse(path, len, &c.route);
  if (rc == -2)
    return reply_failed(&c, 400, "Badly encoded request path");
  if (rc != 0)
    return reply_failed(&c, 404, "Not found");
  if (c.route.kind == ROUTE_METRICS && c.api->cfg->metrics_listen[0])
    return reply_failed(&c, 404, "Not found"); /* served on --metrics-listen only */
  if (c.route.kind == ROUTE_HEALTHZ || c.route.kind == ROUTE_METRICS)
    return admin_handle(c.api, req, c.route.kind);
  if (!c.api->core)
    return reply_failed(&c, 503, "Service is shutting down");
  if (c.api->cluster) { /* the room may live on another node */
    const room_record *rec = conf_find_alias(c.api->core, c.route.alias);
    if (!rec)
      return relay_adhoc(c.api, req, &c.route);
    return relay_handle(c.api, req, &c.route,
                        rec->n_aliases ? rec->aliases[0] : c.route.alias);
  }
  client_v2_answer_here(c.api, req, &c.route, NULL, 0, NULL);
}

static bool token_for_alias(api_call *c) {
  char token[CONF_TOKEN_MAX];
  return c->api->policy && api_read_token(c->req, token, sizeof token) &&
         conf_authenticate(c->api->core, c->route.alias, token) != NULL;
}

void client_v2_answer_here(api *a, h2o_req_t *req, const api_route *route,
                           const char *client_addr, unsigned policy_spent_ms,
                           const char *cluster_key) {
  api_call c = {.api = a,
                .req = req,
                .route = *route,
                .client_addr = client_addr,
                .policy_spent_ms = policy_spent_ms,
                .cluster_key = cluster_key};
  if (!c.api->core)
    return reply_failed(&c, 503, "Service is shutting down");
  refusal err;
  size_t ct_len = 0;
  const char *ct = http_header(req, "content-type", &ct_len);
  /* Image slides are multipart and may be larger than JSON bodies (h2o's own limit,
   * 4x --max-body, still applies); everything else is JSON. */
  bool slide =
      c.route.kind == ROUTE_CONFERENCE && strcmp(c.route.action, "presentation") == 0;
  if (!slide &&
      body_parse(req->entity.base, req->entity.base ? req->entity.len : 0, ct, ct_len,
                 (size_t)c.api->cfg->max_body_bytes, &c.body, &err) != 0)
    return reply_failed(&c, err.status, err.message);
  bool join =
      c.route.kind == ROUTE_CONFERENCE && strcmp(c.route.action, "request_token") == 0;
  /* A policy server may know rooms the store does not: it is asked first. An ad-hoc
   * room's alias is known to whoever holds a token for it (a policy test call's room
   * is private, so its alias names no one room). */
  if (!(join && client_v2_request_token_asks_policy(c.api)) &&
      !conf_find_alias(c.api->core, c.route.alias) && !token_for_alias(&c))
    reply_failed(&c, 404, "Neither conference nor gateway found");
  else
    dispatch(&c);
  json_decref(c.body);
}
