/* whip — WHIP ingest: POST an offer → 201 and a resource (a publish/subscribe
 * participant without a WebSocket that publishes one feed), DELETE → the feed and the
 * participant leave. Runs on the control loop, like the WebSocket (rtc_ws.c). */
#include "api/whip.h"

#include "api/ice_servers.h"
#include "api/whip_request.h"
#include "core/hmap.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/url.h"
#include "pubsub/ps_media.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define WHIP_MAX_OFFER (64 * 1024)
#define TOKEN_MAX 9000 /* just over JWT_MAX_LEN */

struct whip {
  hmap *by_rid; /* rid -> whip_res */
  whip_counters n;
};

typedef struct {
  whip *w;
  char rid[IDS_TOKEN_LEN + 1];
  char sid[PUBSUB_ID_MAX + 1];
  char feed_id[PS_MAX_ID + 2];
  char etag[80];
  ps_participant *p; /* NULL once the server ended it */
} whip_res;

whip *whip_new(void) {
  whip *w = xcalloc(1, sizeof *w);
  w->by_rid = hmap_new();
  return w;
}

static void res_free(whip_res *r) {
  hmap_remove(r->w->by_rid, r->rid, strlen(r->rid));
  free(r);
}

void whip_free(whip *w) {
  if (!w)
    return;
  size_t pos = 0;
  whip_res *r;
  while ((pos = 0, r = hmap_next(w->by_rid, &pos)))
    res_free(r); /* participants were freed with the pub/sub core */
  hmap_free(w->by_rid);
  free(w);
}

void whip_get_counters(const whip *w, whip_counters *out) {
  *out = w->n;
  out->live = hmap_count(w->by_rid);
}

/* ---- the participant's link: nobody to tell ------------------------------------- */

static void link_event(void *ud, const char *ev, json_t *data) {
  (void)ud, (void)ev;
  json_decref(data);
}

/* The server ends the participant (shutting down): the resource goes with it. */
static void link_detached(void *ud, int code, const char *reason) {
  whip_res *r = ud;
  (void)code;
  log_info("whip", "resource %.8s… of session %s ended: %s", r->rid, r->sid, reason);
  r->w->n.ended++;
  r->p = NULL;
  res_free(r);
}

/* The encoder is gone without a DELETE (its ICE consent lapsed, DTLS failed): nobody
 * will come back for this resource, so the participant leaves now. */
static void link_publish_ended(void *ud, const char *why) {
  whip_res *r = ud;
  log_info("whip", "resource %.8s… of session %s: media ended (%s): left", r->rid, r->sid,
           why);
  r->w->n.ended++;
  ps_participant *p = r->p;
  res_free(r);
  if (p)
    ps_leave(p);
}

static const ps_link whip_link = {link_event, link_detached, link_publish_ended};

/* ---- answers -------------------------------------------------------------------- */

static void header(h2o_req_t *req, const char *name, const char *value, size_t len) {
  h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL,
                        h2o_strdup(&req->pool, value, len).base, len);
}

static void header_s(h2o_req_t *req, const char *name, const char *value) {
  header(req, name, value, strlen(value));
}

/* WHIP clients are often web pages on another origin; the credential is a bearer
 * token, never a cookie, so any origin may read the answers. */
static void cors(h2o_req_t *req) {
  header_s(req, "access-control-allow-origin", "*");
  header_s(req, "access-control-expose-headers", "location, etag, link, allow");
}

static void respond(h2o_req_t *req, int status, const char *type, const char *body,
                    size_t len) {
  req->res.status = status;
  req->res.reason = http_reason_phrase(status);
  if (type)
    header_s(req, "content-type", type);
  header_s(req, "cache-control", "no-store");
  cors(req);
  req->res.content_length = len;
  h2o_send_inline(req, body, len);
}

/* Errors: a sentence a person can read, as text (WHIP clients show it as is). */
static void fail(whip *w, h2o_req_t *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(whip *w, h2o_req_t *req, int status, const char *fmt, ...) {
  char text[400];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text, sizeof text - 1, fmt, ap);
  va_end(ap);
  size_t len = n < 0 ? 0 : (size_t)n >= sizeof text - 1 ? sizeof text - 2 : (size_t)n;
  text[len++] = '\n';
  if (w)
    w->n.refused++;
  respond(req, status, "text/plain; charset=utf-8", text, len);
}

static void not_allowed(h2o_req_t *req, const char *allow) {
  header_s(req, "allow", allow);
  fail(NULL, req, 405, "method not allowed here (allowed: %s)", allow);
}

static void preflight(h2o_req_t *req, bool resource) {
  const char *methods = resource ? "DELETE, PATCH, OPTIONS" : "POST, OPTIONS";
  header_s(req, "access-control-allow-methods", methods);
  header_s(req, "access-control-allow-headers", "authorization, content-type, if-match");
  header_s(req, "access-control-max-age", "600");
  header_s(req, "allow", methods);
  respond(req, 204, NULL, "", 0);
}

/* ---- POST: a new resource ------------------------------------------------------- */

static void add_link(void *ud, const char *value, size_t len) {
  header(ud, "link", value, len);
}

/* The ETag names the ICE session (RFC 9725 §4.3.1): the answer's ufrag. */
static void etag_of(const char *answer, char *out, size_t cap) {
  const char *u = strstr(answer, "a=ice-ufrag:");
  size_t n = 0;
  if (u) {
    u += strlen("a=ice-ufrag:");
    while (u[n] && u[n] != '\r' && u[n] != '\n' && u[n] != '"' && n < 32)
      n++;
  }
  if (n)
    snprintf(out, cap, "\"%.*s\"", (int)n, u);
  else
    snprintf(out, cap, "\"%s\"", "whip");
}

static bool query_param(h2o_req_t *req, const char *name, char *out, size_t cap) {
  size_t len;
  const char *q = http_query(req, &len);
  return q && url_query_param(q, len, name, out, cap) > 0;
}

/* What the credential says: 0 with who filled, else the status already answered. */
static int authenticate(api *a, h2o_req_t *req, pubsub_identity *who) {
  size_t len;
  const char *auth = http_header(req, "authorization", &len);
  char *token = xmalloc(TOKEN_MAX);
  char origin[512];
  int status = 0;
  if (!auth || whip_bearer(auth, len, token, TOKEN_MAX) != 0) {
    header_s(req, "www-authenticate", "Bearer");
    fail(a->whip, req, 401,
         "missing credentials: Authorization: Bearer <JWT> (or an API key from a "
         "browser page of one of its origins)");
    status = 401;
  } else if (http_header_copy(req, "origin", origin, sizeof origin) < 0) {
    fail(a->whip, req, 400, "%s", API_ORIGIN_TOO_LONG);
    status = 400;
  } else {
    char reason[200] = "";
    bool key = whip_token_is_key(token);
    status = credentials_pubsub(a->st, key ? token : NULL, key ? NULL : token,
                                origin[0] ? origin : NULL, (int64_t)time(NULL), who,
                                reason, sizeof reason);
    if (status != 0) {
      if (status == 401)
        header_s(req, "www-authenticate", "Bearer error=\"invalid_token\"");
      fail(a->whip, req, status, "%s", reason);
    } else if (!who->can_publish) {
      status = 403;
      fail(a->whip, req, 403, "this token may not publish (can_publish)");
    }
  }
  free(token);
  return status;
}

static ps_feed_type feed_type(h2o_req_t *req, const char *offer, bool *ok) {
  char t[16];
  *ok = true;
  if (query_param(req, "type", t, sizeof t)) {
    if (strcmp(t, "video") == 0)
      return PS_FEED_VIDEO;
    if (strcmp(t, "screen") == 0)
      return PS_FEED_SCREEN;
    if (strcmp(t, "audio") == 0)
      return PS_FEED_AUDIO;
    *ok = false;
  }
  return strstr(offer, "\nm=video") ? PS_FEED_VIDEO : PS_FEED_AUDIO;
}

static void create(api *a, h2o_req_t *req, const whip_route *route) {
  whip *w = a->whip;
  size_t len;
  const char *ct = http_header(req, "content-type", &len);
  if (!ct || !whip_content_type_is_sdp(ct, len))
    return fail(w, req, 415,
                "the body must be an SDP offer (Content-Type: application/sdp)");
  size_t body_len = req->entity.base ? req->entity.len : 0;
  if (body_len > WHIP_MAX_OFFER)
    return fail(w, req, 413, "an offer is at most %d KiB", WHIP_MAX_OFFER / 1024);
  if (body_len == 0 || memchr(req->entity.base, '\0', body_len))
    return fail(w, req, 400, "the body must be an SDP offer (text, not empty)");
  pubsub_identity who;
  if (authenticate(a, req, &who) != 0)
    return;
  char *offer = xmalloc(body_len + 1);
  memcpy(offer, req->entity.base, body_len);
  offer[body_len] = '\0';
  bool type_ok;
  ps_feed_type type = feed_type(req, offer, &type_ok);
  char uid[PUBSUB_ID_MAX + 1], name[129];
  bool has_uid = query_param(req, "uid", uid, sizeof uid);
  bool has_name = query_param(req, "name", name, sizeof name);
  refusal why = {0};
  whip_res *r = NULL;
  ps_participant *p = NULL;
  json_t *joined = NULL;
  buf answer = {0};
  if (!type_ok) {
    fail(w, req, 400, "type must be video, screen or audio");
    goto out;
  }
  if (has_uid && !pubsub_id_ok(uid)) {
    fail(w, req, 400, "uid must be 1 to %d of [A-Za-z0-9_.:-]", PUBSUB_ID_MAX);
    goto out;
  }
  r = xcalloc(1, sizeof *r);
  r->w = w;
  ids_token(r->rid);
  snprintf(r->sid, sizeof r->sid, "%s", route->sid);
  if (ps_join(a->ps, &who, route->sid, has_uid ? uid : NULL, has_name ? name : NULL, NULL,
              whip_link, r, &p, &joined, &why) != 0 ||
      ps_publish(p, offer, type, NULL, 0, r->feed_id, &answer, &why) != 0) {
    if (p)
      ps_leave(p);
    fail(w, req, why.status ? why.status : 500, "%s", why.message);
    free(r);
    r = NULL;
    goto out;
  }
  r->p = p;
  hmap_put(w->by_rid, r->rid, strlen(r->rid), r);
  w->n.created++;
  char location[sizeof WHIP_PREFIX + PUBSUB_ID_MAX + IDS_TOKEN_LEN + 2];
  snprintf(location, sizeof location, "%s%s/%s", WHIP_PREFIX, route->sid, r->rid);
  header_s(req, "location", location);
  buf_append(&answer, "", 1);
  etag_of(answer.data, r->etag, sizeof r->etag);
  header_s(req, "etag", r->etag);
  json_t *ice = ice_servers_json(a->cfg, ps_participant_uid(p), (int64_t)time(NULL));
  whip_link_headers(ice, add_link, req);
  json_decref(ice);
  log_info("whip", "%s publishes feed %s in session %s of %s", ps_participant_uid(p),
           r->feed_id, r->sid, ps_participant_cid(p));
  respond(req, 201, "application/sdp", answer.data, answer.len - 1);
out:
  json_decref(joined);
  buf_free(&answer);
  free(offer);
}

/* ---- the resource --------------------------------------------------------------- */

static void resource(api *a, h2o_req_t *req, const whip_route *route) {
  whip *w = a->whip;
  whip_res *r = hmap_get(w->by_rid, route->rid, strlen(route->rid));
  if (!r || strcmp(r->sid, route->sid) != 0)
    return fail(NULL, req, 404, "no such WHIP resource (ended, or never made)");
  if (http_method_is(req, "DELETE")) {
    log_info("whip", "%s stops feed %s in session %s", ps_participant_uid(r->p),
             r->feed_id, r->sid);
    ps_leave(r->p);
    res_free(r);
    w->n.deleted++;
    return respond(req, 200, NULL, "", 0);
  }
  /* Neither trickle nor ICE restart: the server is ICE-lite and learns the client's
   * paths from its checks (RFC 9725 §4.3.1 allows 405 here). */
  not_allowed(req, "DELETE, OPTIONS");
}

bool whip_handle(api *a, h2o_req_t *req) {
  const char *path;
  size_t len;
  http_path(req, &path, &len);
  whip_route route;
  int rc = whip_route_parse(path, len, &route);
  if (rc == -1)
    return false;
  if (http_method_is(req, "OPTIONS")) {
    preflight(req, rc == 0 && route.kind == WHIP_RESOURCE);
    return true;
  }
  if (rc != 0)
    fail(NULL, req, 404, "not a WHIP endpoint: %s<session id>", WHIP_PREFIX);
  else if (!a->ps || !a->whip)
    fail(NULL, req, 503, "the server is shutting down");
  else if (route.kind == WHIP_RESOURCE)
    resource(a, req, &route);
  else if (http_method_is(req, "POST"))
    create(a, req, &route);
  else
    not_allowed(req, "POST, OPTIONS");
  return true;
}
