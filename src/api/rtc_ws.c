/* rtc_ws — the publish/subscribe translator: the WebSocket at /api/rtc/v1 turns each
 * request frame into a call on the session core (src/pubsub) and core events into
 * frames; it authenticates joins (the upgrade's Origin for keys) and closes sockets
 * that fall silent. docs/PUBSUB.md is the protocol. */
#include "api/api.h"
#include "api/ice_servers.h"
#include "api/rtc_message.h"
#include "auth/credentials.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/server.h"
#include "http/websocket.h"
#include "pubsub/ps_media.h"
#include "pubsub/ps_recording.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define RTC_PATH "/api/rtc/v1"

typedef struct {
  api *api;
  ws_conn *ws;
  char origin[512]; /* the upgrade's Origin header, "" when none */
  ps_participant *p;
  uv_timer_t *idle; /* closes the socket after --rtc-idle-timeout without a frame */
} rtc_socket;

static void send_text(rtc_socket *so, char *text) {
  if (text)
    ws_send_text(so->ws, text, strlen(text));
  free(text);
}

static void reply(rtc_socket *so, uint64_t id, json_t *data) {
  send_text(so, rtc_message_reply(id, data));
}

static void reply_error(rtc_socket *so, bool has_id, uint64_t id, const refusal *why) {
  send_text(so, rtc_message_error(has_id, id, why->code ? why->code : PS_E_INTERNAL,
                                  why->message));
}

static void link_event(void *ud, const char *ev, json_t *data) {
  rtc_socket *so = ud;
  send_text(so, rtc_message_event(ev, data));
}

static void link_detached(void *ud, int code, const char *reason) {
  rtc_socket *so = ud;
  so->p = NULL;
  ws_close(so->ws, code, reason);
}

static const ps_link socket_link = {link_event, link_detached, NULL};

static int join(rtc_socket *so, const rtc_request *r, json_t **out, refusal *why) {
  api *a = so->api;
  if (so->p)
    return ps_refuse(why, PS_E_ALREADY_JOINED, "this connection has joined already");
  pubsub_identity who;
  char reason[200] = "";
  int64_t now = (int64_t)time(NULL);
  int status =
      credentials_pubsub(a->st, r->key, r->jwt, so->origin[0] ? so->origin : NULL, now,
                         &who, reason, sizeof reason);
  if (status != 0)
    return ps_refuse(why, status == 403 ? PS_E_FORBIDDEN : PS_E_UNAUTHORIZED, "%s",
                     reason);
  if (ps_join(a->ps, &who, r->sid, r->uid, r->name, r->meta, socket_link, so, &so->p, out,
              why) != 0)
    return -1;
  json_object_set_new(*out, "ice_servers",
                      ice_servers_json(a->cfg, ps_participant_uid(so->p), now));
  return 0;
}

static int resume(rtc_socket *so, const rtc_request *r, json_t **out, refusal *why) {
  if (so->p)
    return ps_refuse(why, PS_E_ALREADY_JOINED, "this connection has joined already");
  if (ps_resume(so->api->ps, r->sid, r->uid, r->session_token, socket_link, so, &so->p,
                out, why) != 0)
    return -1;
  json_object_set_new(
      *out, "ice_servers",
      ice_servers_json(so->api->cfg, ps_participant_uid(so->p), (int64_t)time(NULL)));
  return 0;
}

/* The media ops (src/pubsub/ps_media.c): what the credential allows first. */
static int media_op(rtc_socket *so, const rtc_request *r, json_t **out, refusal *why) {
  const pubsub_identity *who = ps_participant_identity(so->p);
  bool publishing = r->op == RTC_OP_PUBLISH || r->op == RTC_OP_UNPUBLISH ||
                    r->op == RTC_OP_PUBLISH_UPDATE;
  if (publishing && !who->can_publish)
    return ps_refuse(why, PS_E_FORBIDDEN, "this token may not publish (can_publish)");
  if (!publishing && !who->can_subscribe)
    return ps_refuse(why, PS_E_FORBIDDEN, "this token may not subscribe (can_subscribe)");
  switch (r->op) {
  case RTC_OP_PUBLISH: {
    int type = ps_feed_type_parse(r->feed_type);
    if (type < 0)
      return ps_refuse(why, PS_E_BAD_REQUEST, "type must be video, screen or audio");
    char feed_id[PS_ID_MAX + 1];
    buf answer = {0};
    int rc = ps_publish(so->p, r->sdp, (ps_feed_type)type, r->mids, (size_t)r->n_mids,
                        feed_id, &answer, why);
    if (rc == 0)
      *out = json_pack("{s:s, s:s%}", "feed_id", feed_id, "sdp", answer.data, answer.len);
    buf_free(&answer);
    return rc;
  }
  case RTC_OP_PUBLISH_UPDATE: {
    buf answer = {0};
    int rc = ps_publish_update(so->p, r->sdp, &answer, why);
    if (rc == 0)
      *out = json_pack("{s:s%}", "sdp", answer.data, answer.len);
    buf_free(&answer);
    return rc;
  }
  case RTC_OP_UNPUBLISH:
    return ps_unpublish(so->p, r->feed_id, why);
  case RTC_OP_SUBSCRIBE:
    return ps_subscribe(so->p, r->feed_ids, (size_t)r->n_feed_ids, out, why);
  case RTC_OP_UNSUBSCRIBE:
    return ps_unsubscribe(so->p, r->feed_ids, (size_t)r->n_feed_ids, out, why);
  case RTC_OP_ANSWER:
    return ps_answer(so->p, r->sdp, why);
  case RTC_OP_LAYER:
    return ps_layer(so->p, r->feed_id, r->width, r->height, r->paused == 1, why);
  case RTC_OP_ICE_RESTART:
    if (r->pc && strcmp(r->pc, "sub") != 0)
      return ps_refuse(why, PS_E_BAD_REQUEST,
                       "ice_restart is for pc \"sub\": the publish connection restarts "
                       "with publish_update");
    return ps_ice_restart(so->p, out, why);
  default:
    return ps_refuse(why, PS_E_BAD_REQUEST, "unknown op");
  }
}

/* One request: 0 with *out the reply's data (NULL: {}), or -1 with why. */
static int dispatch(rtc_socket *so, const rtc_request *r, json_t **out, refusal *why) {
  switch (r->op) {
  case RTC_OP_PING:
    return 0;
  case RTC_OP_JOIN:
    return join(so, r, out, why);
  case RTC_OP_RESUME:
    return resume(so, r, out, why);
  default:
    break;
  }
  if (!so->p)
    return ps_refuse(why, PS_E_NOT_JOINED, "join first");
  switch (r->op) {
  case RTC_OP_LEAVE:
    ps_leave(so->p);
    so->p = NULL;
    return 0;
  case RTC_OP_DATA:
    return ps_data(so->p, r->to, r->payload, why);
  case RTC_OP_TRICKLE:
    return 0; /* ICE-lite: the server learns paths from the client's checks */
  case RTC_OP_RECORD_START:
    return ps_record_start(so->p, r->feed_ids, (size_t)r->n_feed_ids, r->upload_url,
                           r->webhook_url, out, why);
  case RTC_OP_RECORD_STOP:
    return ps_record_stop(so->p, r->rec_ids, (size_t)r->n_rec_ids, why);
  default:
    return media_op(so, r, out, why);
  }
}

static void handle_frame(rtc_socket *so, const char *data, size_t len) {
  rtc_request r;
  rtc_error err;
  if (rtc_message_parse(data, len, &r, &err) != 0)
    return reply_error(so, err.has_id, err.id, &err.why);
  json_t *out = NULL;
  refusal why = {0};
  if (dispatch(so, &r, &out, &why) != 0) {
    reply_error(so, true, r.id, &why);
  } else {
    reply(so, r.id, out);
    if ((r.op == RTC_OP_JOIN || r.op == RTC_OP_RESUME) && so->p)
      ps_media_greet(so->p);
    if (r.op == RTC_OP_LEAVE)
      ws_close(so->ws, 1000, "left");
  }
  rtc_message_free(&r);
}

static void on_message(ws_conn *ws, bool text, const char *data, size_t len, void *ud) {
  rtc_socket *so = ud;
  uv_timer_again(so->idle);
  if (len > RTC_MAX_FRAME)
    return ws_close(ws, 1009, "a frame is at most 64 KiB");
  if (!so->api->ps) {
    refusal why;
    ps_refuse(&why, PS_E_INTERNAL, "the server is shutting down");
    return reply_error(so, false, 0, &why);
  }
  if (!text) {
    refusal why;
    ps_refuse(&why, PS_E_BAD_REQUEST, "requests are JSON text frames");
    return reply_error(so, false, 0, &why);
  }
  handle_frame(so, data, len);
}

static void on_too_large(ws_conn *ws, bool text, uint64_t len, void *ud) {
  (void)text, (void)len, (void)ud;
  ws_close(ws, 1009, "a frame is at most 64 KiB");
}

static void on_idle(uv_timer_t *t) {
  rtc_socket *so = t->data;
  uv_timer_stop(t);
  ws_close(so->ws, 1001, "no frame from the client for too long");
}

static void on_idle_closed(uv_handle_t *h) { free(h); }

static void on_close(ws_conn *ws, int code, void *ud) {
  (void)ws;
  rtc_socket *so = ud;
  if (so->p && so->api->ps)
    ps_link_lost(so->p); /* kept for a resume (docs/PUBSUB.md) */
  uv_close((uv_handle_t *)so->idle, on_idle_closed);
  log_debug("rtc", "socket closed (%d)", code);
  free(so);
}

static void refuse(h2o_req_t *req, int status, const char *reason) {
  http_respond_json(req, status,
                    json_pack("{s:s, s:s}", "status", "error", "reason", reason));
}

static void open_socket(api *a, h2o_req_t *req) {
  if (!ws_is_upgrade(req))
    return refuse(req, 426, "a WebSocket upgrade is expected here");
  char origin[sizeof((rtc_socket *)0)->origin];
  if (http_header_copy(req, "origin", origin, sizeof origin) < 0)
    return refuse(req, 400, API_ORIGIN_TOO_LONG);
  rtc_socket *so = xcalloc(1, sizeof *so);
  so->api = a;
  memcpy(so->origin, origin, sizeof origin);
  so->ws = ws_accept(req, (ws_handlers){on_message, on_too_large, on_close}, so);
  if (!so->ws) {
    free(so);
    return;
  }
  so->idle = xcalloc(1, sizeof *so->idle);
  uv_timer_init(req->conn->ctx->loop, so->idle);
  so->idle->data = so;
  uint64_t ms = (uint64_t)a->cfg->rtc_idle_timeout_s * 1000;
  uv_timer_start(so->idle, on_idle, ms, ms);
}

bool rtc_ws_handle(api *a, h2o_req_t *req) {
  const char *path;
  size_t len;
  http_path(req, &path, &len);
  if (len != strlen(RTC_PATH) || memcmp(path, RTC_PATH, len) != 0)
    return false;
  if (!a->ps)
    refuse(req, 503, "the server is shutting down");
  else if (http_method_is(req, "GET"))
    open_socket(a, req);
  else
    refuse(req, 405, "method not allowed here");
  return true;
}
