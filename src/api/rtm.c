/* rtm — the RTM translator: authenticates the WebSocket upgrade (and the REST session
 * reservation), turns each frame into a call on the RTM core, and core news into frames.
 */
#include "rtm/rtm.h"
#include "api/api.h"
#include "api/ice_servers.h"
#include "api/rtm_message.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/server.h"
#include "http/url.h"
#include "http/websocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RTM_IO_PATH "/api/rtm/v1/io"
#define RTM_SESSION_PATH "/api/rtm/v1/session"

/* One client's WebSocket and the session it carries (at most one at a time). */
typedef struct {
  api *api;
  ws_conn *ws;
  rtm_identity who;
  char client_id[128]; /* fixed by the JWT, or by the first message naming one */
  rtm_session *session;
} rtm_socket;

static void send_frame(rtm_socket *so, const char *type, const char *session_id,
                       json_t *data) {
  char *text =
      rtm_message_build(type, so->client_id[0] ? so->client_id : NULL, session_id, data);
  ws_send_text(so->ws, text, strlen(text));
  free(text);
}

static void send_error(rtm_socket *so, const char *code, const char *message,
                       const char *ref_type) {
  json_t *data = json_pack("{s:s, s:s, s:s}", "code", code, "message", message,
                           "ref_type", ref_type ? ref_type : "");
  send_frame(so, "error", so->session ? rtm_session_id(so->session) : NULL, data);
}

static void link_send(void *ud, const char *type, const char *session_id, json_t *data) {
  send_frame(ud, type, session_id, data);
}

static void link_detached(void *ud, const char *cause) {
  rtm_socket *so = ud;
  so->session = NULL;
  /* A session that ended because its client went quiet has no live socket left; one
   * whose JWT expired leaves a socket whose credentials are no good any more. */
  if (cause && strcmp(cause, "CONN_ERROR") == 0)
    ws_close(so->ws, 1001, "session ended: CONN_ERROR");
  else if (cause && strcmp(cause, "AUTH_EXPIRED") == 0)
    ws_close(so->ws, 1008, "session ended: AUTH_EXPIRED");
}

static const rtm_link socket_link = {link_send, link_detached};

/* The socket's client id: the JWT's, else the first one a message names. */
static bool bind_client_id(rtm_socket *so, const rtm_message *m, refusal *err) {
  if (m->client_id && so->client_id[0] && strcmp(m->client_id, so->client_id) != 0) {
    return rtm_refuse(err, RTM_E_ID_MISMATCH,
                      "client_id does not match this connection's");
  }
  if (!so->client_id[0] && m->client_id) {
    if (strlen(m->client_id) >= sizeof so->client_id) {
      return rtm_refuse(err, RTM_E_BAD_MESSAGE, "client_id is too long");
    }
    if (!credentials_client_id_ok(&so->who, m->client_id)) { /* not bound: may retry */
      return rtm_refuse(err, RTM_E_FORBIDDEN,
                        "this API key may not use that client_id (see its prefix)");
    }
    snprintf(so->client_id, sizeof so->client_id, "%s", m->client_id);
  }
  return true;
}

static bool check_ids(rtm_socket *so, const rtm_message *m, refusal *err) {
  if (!bind_client_id(so, m, err))
    return false;
  bool starting = m->type == RTM_SESSION_START || m->type == RTM_SUPERVISOR_JOIN;
  if (starting && !so->client_id[0]) {
    return rtm_refuse(err, RTM_E_BAD_MESSAGE, "missing string \"client_id\"");
  }
  if (!starting && so->session && m->session_id &&
      strcmp(m->session_id, rtm_session_id(so->session)) != 0) {
    return rtm_refuse(err, RTM_E_ID_MISMATCH,
                      "session_id does not match this connection's session");
  }
  return true;
}

static int start(rtm_socket *so, const rtm_message *m, refusal *why) {
  rtm_core *core = so->api->rtm;
  if (so->session) {
    why->code = RTM_E_STATE;
    snprintf(why->message, sizeof why->message,
             "this connection already carries a live session");
    return -1;
  }
  if (m->type == RTM_SESSION_START)
    return rtm_session_start(core, &so->who, so->client_id, m->session_id, m->sdp,
                             m->webhook_url, socket_link, so, &so->session, why);
  return rtm_supervisor_join(core, &so->who, so->client_id, m->monitor_session_id, m->sdp,
                             m->webhook_url, socket_link, so, &so->session, why);
}

static int no_session(refusal *why) {
  why->code = RTM_E_STATE;
  snprintf(why->message, sizeof why->message, "no live session on this connection");
  return -1;
}

static int dispatch(rtm_socket *so, const rtm_message *m, refusal *why) {
  rtm_session *s = so->session;
  switch (m->type) {
  case RTM_SESSION_START:
  case RTM_SUPERVISOR_JOIN:
    return start(so, m, why);
  case RTM_PING:
    if (s)
      return rtm_session_ping(s);
    send_frame(so, "pong", NULL, NULL);
    return 0;
  default:
    break;
  }
  if (!s)
    return no_session(why);
  switch (m->type) {
  case RTM_SDP_UPDATE:
    if (strcmp(m->sdp_type, "offer") != 0) {
      why->code = RTM_E_STATE;
      snprintf(why->message, sizeof why->message, "no offer of ours awaits an answer");
      return -1;
    }
    return rtm_session_offer(s, m->sdp, why);
  case RTM_CANDIDATE:
    return rtm_session_candidate(s, m->candidate, why);
  case RTM_RECORDING_START:
    return rtm_recording_start(s, m->upload_url, m->webhook_url, why);
  case RTM_RECORDING_STOP:
    return rtm_recording_stop(s, why);
  case RTM_SESSION_STOP:
    rtm_session_stop(s);
    return 0;
  default:
    return 0;
  }
}

static void on_message(ws_conn *ws, bool text, const char *data, size_t len, void *ud) {
  rtm_socket *so = ud;
  if (!so->api->rtm)
    return send_error(so, RTM_E_STATE, "the server is shutting down", NULL);
  if (!text)
    return send_error(so, RTM_E_BAD_MESSAGE, "only text frames carry messages", NULL);
  rtm_message m;
  rtm_error err;
  if (rtm_message_parse(data, len, &m, &err) != 0)
    return send_error(so, err.why.code, err.why.message, err.ref_type);
  const char *type = rtm_type_name(m.type);
  refusal why = {0};
  if (!check_ids(so, &m, &why))
    send_error(so, why.code, why.message, type);
  else if (dispatch(so, &m, &why) != 0)
    send_error(so, why.code, why.message, type);
  rtm_message_free(&m);
}

static void on_too_large(ws_conn *ws, bool text, uint64_t len, void *ud) {
  (void)ws, (void)text, (void)len;
  char why[64];
  snprintf(why, sizeof why, "a message is at most %d bytes", RTM_MAX_MESSAGE);
  send_error(ud, RTM_E_TOO_LARGE, why, NULL);
}

static void on_close(ws_conn *ws, int code, void *ud) {
  rtm_socket *so = ud;
  if (so->session)
    rtm_session_link_lost(so->session, code == 1000 || code == 1001);
  free(so);
}

/* Credentials from the upgrade (or REST) request: header, then query parameters. */
static int authenticate(api *a, h2o_req_t *req, rtm_identity *who, char *reason,
                        size_t n) {
  static char bearer[8192], token[8192], key[512], origin[512];
  credentials_in in = {0};
  size_t len;
  const char *auth = http_header(req, "authorization", &len);
  if (auth && len > 7 && len < sizeof bearer + 7 &&
      strncasecmp(auth, "Bearer ", 7) == 0) {
    snprintf(bearer, sizeof bearer, "%.*s", (int)(len - 7), auth + 7);
    in.bearer = bearer;
  }
  const char *q = http_query(req, &len);
  if (q && url_query_param(q, len, "access_token", token, sizeof token) > 0)
    in.access_token = token;
  if (q && url_query_param(q, len, "api_key", key, sizeof key) > 0)
    in.api_key = key;
  const char *o = http_header(req, "origin", &len);
  if (o && len < sizeof origin) {
    snprintf(origin, sizeof origin, "%.*s", (int)len, o);
    in.origin = origin;
  }
  return credentials_check(a->st, &in, (int64_t)time(NULL), who, reason, n);
}

static void refuse(h2o_req_t *req, int status, const char *reason) {
  http_respond_json(req, status,
                    json_pack("{s:s, s:s}", "status", "error", "reason", reason));
}

static void open_socket(api *a, h2o_req_t *req) {
  if (!ws_is_upgrade(req))
    return refuse(req, 426, "a WebSocket upgrade is expected here");
  rtm_identity who;
  char reason[200] = "";
  int status = authenticate(a, req, &who, reason, sizeof reason);
  if (status != 0)
    return refuse(req, status, reason);
  rtm_socket *so = xcalloc(1, sizeof *so);
  so->api = a;
  so->who = who;
  snprintf(so->client_id, sizeof so->client_id, "%s", who.client_id);
  so->ws = ws_accept(req, (ws_handlers){on_message, on_too_large, on_close}, so);
  if (!so->ws)
    free(so);
}

static void reserve_session(api *a, h2o_req_t *req) {
  rtm_identity who;
  char reason[200] = "";
  int status = authenticate(a, req, &who, reason, sizeof reason);
  if (status != 0)
    return refuse(req, status, reason);
  refusal err;
  json_t *body = NULL;
  size_t ct_len = 0;
  const char *ct = http_header(req, "content-type", &ct_len);
  const char *client_id = NULL;
  if (body_parse(req->entity.base, req->entity.base ? req->entity.len : 0, ct, ct_len,
                 (size_t)a->cfg->max_body_bytes, &body, &err) != 0 ||
      body_string(body, "client_id", !who.client_id[0], &client_id, &err) != 0) {
    json_decref(body);
    return refuse(req, err.status, err.message);
  }
  if (!client_id || !*client_id)
    client_id = who.client_id;
  if (who.client_id[0] && strcmp(client_id, who.client_id) != 0) {
    json_decref(body);
    return refuse(req, 403, "client_id does not match the token's");
  }
  char session_id[40];
  refusal why = {0};
  if (rtm_reserve(a->rtm, &who, client_id, session_id, &why) != 0) {
    json_decref(body);
    return refuse(req, why.status, why.message); /* 403 for a key's prefix, else 503 */
  }
  json_decref(body);
  /* The host the client reached us by: h2o keeps the Host header as the authority. */
  char endpoint[600];
  size_t hl = req->authority.len < 400 ? req->authority.len : 0;
  snprintf(endpoint, sizeof endpoint, "%s://%.*s%s",
           http_request_is_tls(req) ? "wss" : "ws", (int)hl, req->authority.base,
           RTM_IO_PATH);
  /* RTCIceServer[] for the client's RTCPeerConnection: --stun-url and --turn-url, the
   * TURN user named after the session. Empty when neither is configured. */
  json_t *ice = ice_servers_json(a->cfg, session_id, (int64_t)time(NULL));
  http_respond_json(req, 201,
                    json_pack("{s:s, s:o, s:s}", "session_id", session_id, "ice_servers",
                              ice, "ws_endpoint", endpoint));
}

bool rtm_api_handle(api *a, h2o_req_t *req) {
  const char *path;
  size_t len;
  http_path(req, &path, &len);
  bool io = len == strlen(RTM_IO_PATH) && memcmp(path, RTM_IO_PATH, len) == 0;
  bool session =
      len == strlen(RTM_SESSION_PATH) && memcmp(path, RTM_SESSION_PATH, len) == 0;
  if (!io && !session)
    return false;
  if (!a->rtm)
    refuse(req, 503, "the server is shutting down");
  else if (io && http_method_is(req, "GET"))
    open_socket(a, req);
  else if (session && http_method_is(req, "POST"))
    reserve_session(a, req);
  else
    refuse(req, 405, "method not allowed here");
  return true;
}
