/* rtm — the RTM translator: authenticates the WebSocket upgrade (and the REST session
 * reservation), turns each frame into a call on the RTM core, and core news into frames.
 */
#include "rtm/rtm.h"
#include "api/api.h"
#include "api/ice_servers.h"
#include "api/rtm_cluster.h"
#include "api/rtm_message.h"
#include "core/ids.h"
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

/* Cluster mode: frames that came while a session_start or supervisor_join_session
 * waited for Redis to say where its session lives; they are handled, in order, after. */
#define MAX_HELD_FRAMES 64
#define MAX_HELD_BYTES (1u << 20)
typedef struct held_frame {
  struct held_frame *next;
  size_t len;
  char data[];
} held_frame;

/* One client's WebSocket and the session it carries (at most one at a time). */
typedef struct {
  api *api;
  ws_conn *ws;
  rtm_identity who;
  char client_id[128]; /* fixed by the JWT, or by the first message naming one */
  rtm_session *session;
  rtmc_lookup *lookup; /* cluster mode: where is the session `waiting` names? */
  rtm_message waiting; /* its start message, handled when the answer comes */
  held_frame *held, **held_tail;
  size_t n_held, held_bytes;
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
  if (so->session && so->api->rtmc && !rtm_session_is_supervisor(so->session))
    rtmc_unregister(so->api->rtmc, rtm_session_id(so->session));
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
  case RTM_SUPERVISOR_JOIN: {
    int rc = start(so, m, why);
    if (rc == 0 && so->session && so->api->rtmc && m->type == RTM_SESSION_START)
      rtmc_register(so->api->rtmc, rtm_session_id(so->session), so->who.cid, NULL, NULL);
    return rc;
  }
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

/* Cluster mode: the session a start message names is neither here nor new to this
 * socket, so Redis is asked where it lives (src/api/rtm_cluster.c) before it starts. */
static const char *elsewhere_id(const rtm_socket *so, const rtm_message *m) {
  if (!so->api->rtmc || so->session)
    return NULL;
  const char *id = m->type == RTM_SESSION_START     ? m->session_id
                   : m->type == RTM_SUPERVISOR_JOIN ? m->monitor_session_id
                                                    : NULL;
  if (!id || !ids_is_uuid(id, strlen(id)) || rtm_session_known(so->api->rtm, id))
    return NULL;
  return id;
}

static void on_located(const rtmc_where *w, void *ud);

static void handle_frame(rtm_socket *so, const char *data, size_t len) {
  if (!so->api->rtm)
    return send_error(so, RTM_E_STATE, "the server is shutting down", NULL);
  rtm_message m;
  rtm_error err;
  if (rtm_message_parse(data, len, &m, &err) != 0)
    return send_error(so, err.why.code, err.why.message, err.ref_type);
  const char *type = rtm_type_name(m.type);
  refusal why = {0};
  const char *far;
  if (!check_ids(so, &m, &why)) {
    send_error(so, why.code, why.message, type);
  } else if ((far = elsewhere_id(so, &m))) {
    so->waiting = m; /* kept until the answer */
    so->lookup = rtmc_find(so->api->rtmc, far, on_located, so);
    return;
  } else if (dispatch(so, &m, &why) != 0) {
    send_error(so, why.code, why.message, type);
  }
  rtm_message_free(&m);
}

static void drop_held(rtm_socket *so) {
  while (so->held) {
    held_frame *f = so->held;
    so->held = f->next;
    free(f);
  }
  so->held_tail = &so->held;
  so->n_held = so->held_bytes = 0;
}

/* The session lives on another node: the client is told where (the error names the
 * node's WebSocket URL) and nothing starts here. */
static void send_elsewhere(rtm_socket *so, const rtm_message *m, const rtmc_where *w) {
  const char *id = m->type == RTM_SESSION_START ? m->session_id : m->monitor_session_id;
  char msg[600];
  snprintf(msg, sizeof msg,
           "session %s is held by cluster node %s: open a WebSocket at %s and send %s "
           "there",
           id, w->node_id, w->ws_endpoint, rtm_type_name(m->type));
  json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", RTM_E_OTHER_NODE,
                           "message", msg, "ref_type", rtm_type_name(m->type),
                           "ws_endpoint", w->ws_endpoint, "node_id", w->node_id);
  send_frame(so, "error", NULL, data);
}

static void on_located(const rtmc_where *w, void *ud) {
  rtm_socket *so = ud;
  so->lookup = NULL;
  rtm_message m = so->waiting;
  memset(&so->waiting, 0, sizeof so->waiting);
  api *a = so->api;
  if (!a->rtm || !a->rtmc) { /* shutting down: nothing more starts */
    rtm_message_free(&m);
    drop_held(so);
    return;
  }
  bool ours = w->found && strcmp(w->cid, so->who.cid) == 0;
  refusal why = {0};
  if (ours && strcmp(w->node_id, rtmc_node_id(a->rtmc)) != 0) {
    send_elsewhere(so, &m, w);
  } else if (w->found && !ours && m.type == RTM_SESSION_START) {
    /* Another account's session: its id is taken, and says nothing more. */
    send_error(so, RTM_E_STATE, "that session_id is already in use", "session_start");
  } else if (dispatch(so, &m, &why) != 0) { /* nowhere else: here, as alone */
    send_error(so, why.code, why.message, rtm_type_name(m.type));
  }
  rtm_message_free(&m);
  while (so->held && !so->lookup) { /* in order, until one waits again */
    held_frame *f = so->held;
    so->held = f->next;
    if (!so->held)
      so->held_tail = &so->held;
    so->n_held--;
    so->held_bytes -= f->len;
    handle_frame(so, f->data, f->len);
    free(f);
  }
}

static void on_message(ws_conn *ws, bool text, const char *data, size_t len, void *ud) {
  rtm_socket *so = ud;
  if (!so->api->rtm)
    return send_error(so, RTM_E_STATE, "the server is shutting down", NULL);
  if (!text)
    return send_error(so, RTM_E_BAD_MESSAGE, "only text frames carry messages", NULL);
  if (so->lookup) {
    if (so->n_held >= MAX_HELD_FRAMES || so->held_bytes + len > MAX_HELD_BYTES)
      return send_error(so, RTM_E_STATE,
                        "too many messages while the session is being located", NULL);
    held_frame *f = xmalloc(sizeof *f + len);
    f->next = NULL;
    f->len = len;
    memcpy(f->data, data, len);
    *so->held_tail = f;
    so->held_tail = &f->next;
    so->n_held++;
    so->held_bytes += len;
    return;
  }
  handle_frame(so, data, len);
}

static void on_too_large(ws_conn *ws, bool text, uint64_t len, void *ud) {
  (void)ws, (void)text, (void)len;
  char why[64];
  snprintf(why, sizeof why, "a message is at most %d bytes", RTM_MAX_MESSAGE);
  send_error(ud, RTM_E_TOO_LARGE, why, NULL);
}

static void on_close(ws_conn *ws, int code, void *ud) {
  rtm_socket *so = ud;
  if (so->lookup) {
    rtmc_find_cancel(so->lookup);
    rtm_message_free(&so->waiting);
  }
  drop_held(so);
  if (so->session && so->api->rtmc && !rtm_session_is_supervisor(so->session))
    rtmc_unregister(so->api->rtmc, rtm_session_id(so->session)); /* it ends now */
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
  int has_origin = http_header_copy(req, "origin", origin, sizeof origin);
  if (has_origin < 0) {
    snprintf(reason, n, "%s", API_ORIGIN_TOO_LONG);
    return 400;
  }
  if (has_origin)
    in.origin = origin;
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
  so->held_tail = &so->held;
  snprintf(so->client_id, sizeof so->client_id, "%s", who.client_id);
  so->ws = ws_accept(req, (ws_handlers){on_message, on_too_large, on_close}, so);
  if (!so->ws)
    free(so);
}

/* Cluster mode: a POST /session whose answer waits for Redis to store the reservation.
 * h2o may dispose of the request first (the client went away): stub then says so. */
typedef struct reserving {
  h2o_req_t *req; /* NULL once disposed */
  json_t *res;
  struct reserving **stub; /* in req's pool */
} reserving;

static void on_reserve_disposed(void *p) {
  reserving *r = *(reserving **)p;
  if (r)
    r->req = NULL;
}

static void on_reserve_registered(void *ud) {
  reserving *r = ud;
  if (r->req) {
    *r->stub = NULL;
    http_respond_json(r->req, 201, r->res); /* Redis down: the reservation still holds */
  } else {
    json_decref(r->res);
  }
  free(r);
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
  char endpoint[600];
  if (a->rtmc) { /* cluster mode: the node holding the reservation, whoever asked */
    snprintf(endpoint, sizeof endpoint, "%s", rtmc_endpoint(a->rtmc));
  } else { /* the host the client reached us by: h2o keeps Host as the authority */
    size_t hl = req->authority.len < 400 ? req->authority.len : 0;
    snprintf(endpoint, sizeof endpoint, "%s://%.*s%s",
             http_request_is_tls(req) ? "wss" : "ws", (int)hl, req->authority.base,
             RTM_IO_PATH);
  }
  /* RTCIceServer[] for the client's RTCPeerConnection: --stun-url and --turn-url, the
   * TURN user named after the session. Empty when neither is configured. */
  json_t *ice = ice_servers_json(a->cfg, session_id, (int64_t)time(NULL));
  json_t *res = json_pack("{s:s, s:o, s:s}", "session_id", session_id, "ice_servers", ice,
                          "ws_endpoint", endpoint);
  if (!a->rtmc)
    return http_respond_json(req, 201, res);
  /* The answer waits until Redis has the reservation: a socket the client opens on
   * another node right after it then finds where the session is. */
  reserving *r = xcalloc(1, sizeof *r);
  r->req = req;
  r->res = res;
  r->stub = h2o_mem_alloc_shared(&req->pool, sizeof *r->stub, on_reserve_disposed);
  *r->stub = r;
  rtmc_register(a->rtmc, session_id, who.cid, on_reserve_registered, r);
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
