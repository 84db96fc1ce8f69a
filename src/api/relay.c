/* relay — cluster mode's front for the client API: every request for a conference is
 * answered on this node if the room lives here, relayed to the room's home node (the
 * response, event stream included, streamed back with backpressure) if it lives there,
 * or refused with 503 when no node can take it now. */
#include "api/api.h"

#include "auth/cluster_auth.h"
#include "cluster/cluster.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/client.h"
#include "http/forwarded.h"
#include "http/sse.h"
#include "http/url.h"
#include "policy/policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONNECT_MS 2000
#define REQUEST_MS 10000

typedef struct relay_req relay_req;
struct relay_req {
  h2o_generator_t gen; /* first: h2o hands it back */
  api *api;
  h2o_req_t *req; /* NULL once h2o disposed the request */
  api_route route;
  char room_key[256];
  char client_addr[64]; /* relayed to us: the client behind the relaying node */
  bool relayed, stream;
  bool placed;   /* THERE for a join of a room just placed (no lease yet) */
  bool replaced; /* re-placed once after its chosen node could not be reached */
  char node[64]; /* THERE: the node relayed to */
  cluster_locate_call *locate;
  policy_call *asking; /* the media location, before a new room is placed */
  bool asked;          /* it was asked (once per join, also when placed again) */
  bool join;
  cluster_key_call *keying; /* an ad-hoc room's key, asked from Redis */
  char regions[CLUSTER_MAX_REGIONS][128];
  size_t n_regions;
  uint64_t asked_ms;        /* loop time the media location was asked */
  unsigned policy_spent_ms; /* what it took, or what the relaying node said it took */
  http_call *call;
  char *out; /* the piece h2o is sending */
  bool started, sending, ended, ok, stopped, counted_stream;
  bool in_cb, gone; /* gone: disposed while in a callback; freed on the way out */
  /* The event stream's last "id:" (the disconnect we may add must carry the next). */
  sse_id_scan ids;
  char tail[200]; /* the disconnect event, when the home fails mid-stream */
  relay_req *prev, *next;
};

static struct {
  http_client *http;
  relay_req *live;
  uint64_t relayed, errors;
  uint64_t streams;
} R;

/* Pexip's own reason when the node running the conference goes: its clients, and ours,
 * answer it by joining again (through any node), which re-places the room. */
#define DISCONNECT_REASON "Media node disconnected"

static void unlink_req(relay_req *st) {
  if (st->prev)
    st->prev->next = st->next;
  else if (R.live == st)
    R.live = st->next;
  if (st->next)
    st->next->prev = st->prev;
  st->prev = st->next = NULL;
}

static void stream_over(relay_req *st) {
  if (st->counted_stream) {
    st->counted_stream = false;
    R.streams--;
  }
}

static void free_req(relay_req *st) {
  unlink_req(st);
  free(st->out);
  free(st);
}

static void on_dispose(void *p) {
  relay_req *st = *(relay_req **)p;
  st->req = NULL;
  cluster_locate_cancel(st->locate);
  st->locate = NULL;
  policy_call_cancel(st->asking);
  st->asking = NULL;
  cluster_key_call_cancel(st->keying);
  st->keying = NULL;
  http_call_cancel(st->call); /* deferred by the client if we are inside its callback */
  st->call = NULL;
  stream_over(st);
  if (st->in_cb)
    st->gone = true;
  else
    free_req(st);
}

static void failed(h2o_req_t *req, int status, const char *message) {
  http_respond_json(req, status,
                    json_pack("{s:s, s:s}", "status", "failed", "result", message));
}

static const char *reason_phrase(int status) {
  if (status < 300)
    return "OK";
  if (status < 400)
    return "Redirect";
  switch (status) {
  case 400:
    return "Bad Request";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 429:
    return "Too Many Requests";
  case 503:
    return "Service Unavailable";
  default:
    return status < 500 ? "Client Error" : "Server Error";
  }
}

/* ---- the response, streamed back ---- */

static bool skip_response_header(const char *name, size_t len) {
  static const char *const skip[] = {
      "connection", "keep-alive", "transfer-encoding", "content-length", "date",
      "server",     "trailer",    "upgrade",           "cache-control",  "vary"};
  if (len >= 15 /* ours are added by http_add_common_headers */ &&
      strncasecmp(name, "access-control-", 15) == 0)
    return true;
  for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
    if (strlen(skip[i]) == len && strncasecmp(skip[i], name, len) == 0)
      return true;
  return false;
}

static void send_end(relay_req *st) {
  h2o_req_t *req = st->req;
  if (st->ok) {
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
  } else if (st->stream) { /* the home failed mid-stream: tell the client to rejoin */
    int n = snprintf(st->tail, sizeof st->tail,
                     "event: disconnect\ndata: {\"reason\": \"%s\"}\nid: %llu\n\n",
                     DISCONNECT_REASON, st->ids.last_id + 1);
    h2o_iovec_t ev = h2o_iovec_init(st->tail, (size_t)n);
    h2o_send(req, &ev, 1, H2O_SEND_STATE_FINAL);
  } else {
    h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
  }
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req) {
  relay_req *st = (relay_req *)gen;
  (void)req;
  free(st->out);
  st->out = NULL;
  st->sending = false;
  if (st->ended)
    send_end(st);
  else
    http_call_resume(st->call); /* curl hands the held bytes over again */
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req) {
  relay_req *st = (relay_req *)gen;
  (void)req;
  st->stopped = true;
  http_call_cancel(st->call);
  st->call = NULL;
  stream_over(st);
}

/* One h2o_send; should h2o dispose the request meanwhile, st goes after it. */
static void send_piece(relay_req *st, char *data, size_t len) {
  h2o_iovec_t iov = h2o_iovec_init(data, len);
  st->sending = true;
  st->in_cb = true;
  h2o_send(st->req, &iov, data ? 1 : 0, H2O_SEND_STATE_IN_PROGRESS);
  st->in_cb = false;
  if (st->gone)
    free_req(st);
}

static void on_head(int status, const char *const *lines, size_t n, void *ud) {
  relay_req *st = ud;
  h2o_req_t *req = st->req;
  if (!req || st->stopped)
    return;
  req->res.status = status;
  req->res.reason = reason_phrase(status);
  for (size_t i = 0; i < n; i++) {
    const char *colon = strchr(lines[i], ':');
    if (!colon || colon == lines[i])
      continue;
    size_t nlen = (size_t)(colon - lines[i]);
    if (skip_response_header(lines[i], nlen))
      continue;
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
      v++;
    h2o_iovec_t name = h2o_strdup(&req->pool, lines[i], nlen);
    for (size_t k = 0; k < nlen; k++)
      name.base[k] = (char)tolower((unsigned char)name.base[k]);
    h2o_iovec_t value = h2o_strdup(&req->pool, v, strlen(v));
    h2o_add_header_by_str(&req->pool, &req->res.headers, name.base, name.len, 1, NULL,
                          value.base, value.len);
  }
  http_add_common_headers(req);
  st->gen.proceed = on_proceed;
  st->gen.stop = on_stop;
  h2o_start_response(req, &st->gen);
  st->started = true;
  send_piece(st, NULL, 0); /* the head goes out now */
}

static bool on_data(const char *data, size_t len, void *ud) {
  relay_req *st = ud;
  if (!st->req || st->stopped || !st->started)
    return true; /* dropped: the call is being cancelled */
  if (st->sending)
    return false; /* the client has not taken the last piece: pause curl */
  if (st->stream)
    sse_id_scan_feed(&st->ids, data, len);
  st->out = xmalloc(len);
  memcpy(st->out, data, len);
  send_piece(st, st->out, len);
  return true; /* st may be gone now */
}

static void on_located(const cluster_location *loc, void *ud);
static void ask_location(relay_req *st);

/* The cluster is about to place the room (nobody holds it): only now is the policy
 * server's media location asked (a room already placed costs no request). */
static void before_place(cluster_locate_call *call, void *ud) {
  relay_req *st = ud;
  (void)call; /* st->locate */
  st->asked = true;
  ask_location(st);
}

/* A join is located; a room not placed yet goes to the regions the policy server's media
 * location names (none: this node's region); a room already placed stays where it is. */
static void locate_join(relay_req *st) {
  if (!st->asked && policy_asks(st->api->policy, POLICY_KIND_LOCATION)) {
    st->locate =
        cluster_locate_join(st->api->cluster, st->room_key, before_place, on_located, st);
    return;
  }
  const char *regions[CLUSTER_MAX_REGIONS];
  for (size_t i = 0; i < st->n_regions; i++)
    regions[i] = st->regions[i];
  st->locate = cluster_locate_in(st->api->cluster, st->room_key, regions, st->n_regions,
                                 on_located, st);
}

/* Media location (client API §E.4) picks the region a new room is placed in: the
 * location, then its overflow locations in order. A fallback (timeout, error, no
 * answer) places it as without a policy server. */
static void on_location(const policy_location *ans, void *ud) {
  relay_req *st = ud;
  st->asking = NULL;
  if (!st->req)
    return;
  st->policy_spent_ms += (unsigned)(uv_now(st->req->conn->ctx->loop) - st->asked_ms);
  st->n_regions = 0;
  if (ans->verdict == POLICY_USE && ans->location[0]) {
    snprintf(st->regions[st->n_regions++], sizeof st->regions[0], "%s", ans->location);
    for (size_t i = 0; i < ans->n_overflow && st->n_regions < CLUSTER_MAX_REGIONS; i++)
      snprintf(st->regions[st->n_regions++], sizeof st->regions[0], "%s",
               ans->overflow[i]);
  }
  const char *regions[CLUSTER_MAX_REGIONS];
  for (size_t i = 0; i < st->n_regions; i++)
    regions[i] = st->regions[i];
  cluster_locate_place(st->locate, regions, st->n_regions); /* st->locate goes on */
}

/* The display name a request_token body carries, for the policy request ("" if none). */
static void body_display_name(h2o_req_t *req, char *out, size_t n) {
  out[0] = '\0';
  json_t *body = json_loadb(req->entity.base, req->entity.len, 0, NULL);
  const char *name = json_string_value(json_object_get(body, "display_name"));
  if (name)
    snprintf(out, n, "%s", name);
  json_decref(body);
}

/* What a policy request from this node says of the join (the strings in b). */
typedef struct {
  char name[256], addr[64], vendor[200], alias[256];
} ask_bufs;

static policy_params ask_params(relay_req *st, ask_bufs *b) {
  h2o_req_t *req = st->req;
  body_display_name(req, b->name, sizeof b->name);
  http_peer_addr(req, b->addr, sizeof b->addr);
  b->vendor[0] = '\0';
  size_t vlen;
  const char *v = http_header(req, "user-agent", &vlen);
  if (v)
    snprintf(b->vendor, sizeof b->vendor, "%.*s", (int)(vlen < 199 ? vlen : 199), v);
  snprintf(b->alias, sizeof b->alias, "%s", st->route.alias);
  /* One budget per join (--policy-timeout), whatever this node asked already. */
  unsigned budget = (unsigned)st->api->cfg->policy_timeout_ms;
  return (policy_params){.local_alias = b->alias,
                         .remote_alias = b->name,
                         .remote_display_name = b->name,
                         .remote_address = b->addr,
                         .vendor = b->vendor,
                         .timeout_ms = budget > st->policy_spent_ms
                                           ? (int)(budget - st->policy_spent_ms)
                                           : 0};
}

static void ask_location(relay_req *st) {
  ask_bufs b;
  policy_params q = ask_params(st, &b);
  if (q.timeout_ms < 50) { /* the service request took the budget: placed as without */
    log_warn("policy", "media location for %s not asked: the join's budget is spent",
             st->route.alias);
    cluster_locate_place(st->locate, NULL, 0);
    return;
  }
  st->asked_ms = uv_now(st->req->conn->ctx->loop);
  st->asking = policy_ask_location(st->api->policy, &q, on_location, st);
}

static void on_done(const http_result *res, void *ud) {
  relay_req *st = ud;
  st->call = NULL;
  stream_over(st);
  if (!st->req || st->stopped)
    return;
  if (!st->started && res->not_connected && st->placed && !st->replaced) {
    /* A new room was placed on a node that does not answer: killed, its key not lapsed
     * yet (up to 6 s). Nothing was sent: the join is placed again without it. */
    st->replaced = true;
    log_warn("relay", "%s: node %s refused the connection (%s); placing the room again",
             st->room_key, st->node, res->error);
    cluster_node_unreachable(st->api->cluster, st->node);
    locate_join(st);
    return;
  }
  if (res->status == 0) {
    R.errors++;
    log_warn("relay", "%s %s: relaying to the home node failed: %s", st->room_key,
             st->route.action, res->error);
  }
  if (!st->started) { /* nothing reached the client yet: an answer it may retry */
    return failed(st->req, 502,
                  res->status ? "The conference's node gave no answer"
                              : CLUSTER_REASON_HOME_GONE);
  }
  st->ended = true;
  st->ok = res->status != 0;
  if (!st->sending)
    send_end(st);
}

static const http_stream_cbs stream_cbs = {on_head, on_data};

/* ---- the request, relayed ---- */

static bool skip_request_header(const char *name, size_t len) {
  static const char *const skip[] = {"host",
                                     "connection",
                                     "keep-alive",
                                     "proxy-connection",
                                     "transfer-encoding",
                                     "te",
                                     "trailer",
                                     "upgrade",
                                     "content-length",
                                     "expect",
                                     "x-parley-relay",
                                     "x-parley-policy-spent",
                                     "x-parley-room-key",
                                     "x-forwarded-for",
                                     "x-forwarded-proto",
                                     "forwarded"};
  for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
    if (strlen(skip[i]) == len && strncasecmp(skip[i], name, len) == 0)
      return true;
  return false;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start_relay(relay_req *st, const char *http_url) {
  h2o_req_t *req = st->req;
  if (!R.http)
    R.http = http_client_new(req->conn->ctx->loop);
  size_t base_len = strlen(http_url);
  while (base_len && http_url[base_len - 1] == '/')
    base_len--;
  char *url = h2o_mem_alloc_pool(&req->pool, base_len + req->path.len + 1);
  memcpy(url, http_url, base_len);
  memcpy(url + base_len, req->path.base, req->path.len);
  url[base_len + req->path.len] = '\0';
  char *method = h2o_strdup(&req->pool, req->method.base, req->method.len).base;

  const char **headers =
      h2o_mem_alloc_pool(&req->pool, sizeof(const char *) * (req->headers.size + 6));
  size_t n = 0;
  for (size_t i = 0; i < req->headers.size; i++) {
    const h2o_header_t *h = &req->headers.entries[i];
    if (skip_request_header(h->name->base, h->name->len))
      continue;
    size_t len = h->name->len + 2 + h->value.len;
    char *line = h2o_mem_alloc_pool(&req->pool, len + 1);
    snprintf(line, len + 1, "%.*s: %.*s", (int)h->name->len, h->name->base,
             (int)h->value.len, h->value.base);
    headers[n++] = line;
  }
  size_t key_len;
  const uint8_t *key = cluster_secret(st->api->cluster, &key_len);
  char sig[RELAY_HEADER_MAX + 1], addr[64];
  if (relay_header_sign(key, key_len, cluster_node_id(st->api->cluster), now_ms(), method,
                        req->path.base, req->path.len, sig, sizeof sig) < 0) {
    R.errors++;
    return failed(req, 500, "This node's id cannot sign relayed requests");
  }
  headers[n++] = h2o_concat(&req->pool, h2o_iovec_init(H2O_STRLIT("X-Parley-Relay: ")),
                            h2o_iovec_init(sig, strlen(sig)))
                     .base;
  http_peer_addr(req, addr, sizeof addr);
  if (addr[0])
    headers[n++] = h2o_concat(&req->pool, h2o_iovec_init(H2O_STRLIT("X-Forwarded-For: ")),
                              h2o_iovec_init(addr, strlen(addr)))
                       .base;
  if (st->policy_spent_ms) { /* the home takes it from the join's policy budget */
    char spent[48];
    snprintf(spent, sizeof spent, "X-Parley-Policy-Spent: %u", st->policy_spent_ms);
    headers[n++] = h2o_strdup(&req->pool, spent, SIZE_MAX).base;
  }
  /* The home may not know the alias (an ad-hoc room not entered there yet). The key may
   * be a client's alias: percent-encoded, so no byte of it can end the header. */
  char *rk = h2o_mem_alloc_pool(&req->pool,
                                sizeof "X-Parley-Room-Key: " + 3 * strlen(st->room_key));
  size_t rn = (size_t)sprintf(rk, "X-Parley-Room-Key: ");
  for (const unsigned char *p = (const unsigned char *)st->room_key; *p; p++)
    rn += (size_t)(*p <= 0x20 || *p >= 0x7f || *p == '%' ? sprintf(rk + rn, "%%%02X", *p)
                                                         : sprintf(rk + rn, "%c", *p));
  headers[n++] = rk;
  headers[n++] = "Expect:"; /* no 100-continue round trip for larger bodies */
  headers[n] = NULL;

  bool has_body = req->entity.base != NULL;
  bool posts = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
  http_request hr = {
      .method = method,
      .url = url,
      .headers = headers,
      .body = has_body ? req->entity.base
              : posts  ? ""
                       : NULL,
      .body_len = has_body ? req->entity.len : 0,
      .timeout_ms = st->stream ? 0 : REQUEST_MS,
      .stall_timeout_s = st->stream ? -1 : 0, /* the home's keep-alives pace a stream */
      .connect_timeout_ms = CONNECT_MS,
  };
  R.relayed++;
  if (st->stream) {
    st->counted_stream = true;
    R.streams++;
  }
  st->call = http_client_stream(R.http, &hr, &stream_cbs, on_done, st);
}

static void on_located(const cluster_location *loc, void *ud) {
  relay_req *st = ud;
  st->locate = NULL;
  h2o_req_t *req = st->req;
  if (!req)
    return;
  switch (loc->where) {
  case CLUSTER_HERE:
    return client_v2_answer_here(st->api, req, &st->route,
                                 st->relayed && st->client_addr[0] ? st->client_addr
                                                                   : NULL,
                                 st->policy_spent_ms, st->room_key);
  case CLUSTER_UNAVAILABLE:
    return failed(req, 503, loc->reason);
  case CLUSTER_THERE:
    st->placed = loc->epoch == 0 && strcmp(st->route.action, "request_token") == 0 &&
                 st->route.kind == ROUTE_CONFERENCE;
    snprintf(st->node, sizeof st->node, "%s", loc->node_id);
    return start_relay(st, loc->http_url);
  }
}

/* The client's address a relaying node put in X-Forwarded-For (believed only with a
 * valid relay header): the rightmost entry. */
static void relayed_client(h2o_req_t *req, char *out, size_t outlen) {
  size_t len;
  const char *v = http_header(req, "x-forwarded-for", &len);
  cidr_list none = {0};
  net_addr a;
  out[0] = '\0';
  if (v && forwarded_client(&v, &len, 1, &none, &a) == 0)
    net_addr_format(&a, out, outlen);
}

/* X-Parley-Policy-Spent from a relaying node (believed only with a valid relay header;
 * clients' own are never passed on): ms, 0 when absent or not a number. */
static unsigned relayed_policy_spent(h2o_req_t *req) {
  size_t len;
  const char *v = http_header(req, "x-parley-policy-spent", &len);
  unsigned ms = 0;
  for (size_t i = 0; v && i < len && i < 6; i++) {
    if (v[i] < '0' || v[i] > '9')
      return 0;
    ms = ms * 10 + (unsigned)(v[i] - '0');
  }
  return ms;
}

/* The relay header's verdict: 1 relayed (it verifies), 0 not relayed, -1 refused (the
 * 403 answered). */
static int check_relayed(api *a, h2o_req_t *req) {
  size_t key_len, hlen;
  const uint8_t *key = cluster_secret(a->cluster, &key_len);
  const char *hdr = http_header(req, "x-parley-relay", &hlen);
  if (!hdr)
    return 0;
  char from[RELAY_NODE_ID_MAX];
  char *method = h2o_strdup(&req->pool, req->method.base, req->method.len).base;
  relay_verdict v = relay_header_verify(key, key_len, hdr, hlen, now_ms(), method,
                                        req->path.base, req->path.len, from);
  if (v != RELAY_OK) {
    failed(req, 403,
           v == RELAY_STALE ? "Relay signature expired" : "Invalid relay signature");
    return -1;
  }
  return 1;
}

static relay_req *new_req(api *a, h2o_req_t *req, const api_route *route, bool relayed) {
  relay_req *st = xcalloc(1, sizeof *st);
  st->api = a;
  st->req = req;
  st->route = *route;
  st->relayed = relayed;
  st->join =
      route->kind == ROUTE_CONFERENCE && strcmp(route->action, "request_token") == 0;
  st->stream = route->kind == ROUTE_CONFERENCE && strcmp(route->action, "events") == 0;
  if (relayed) {
    relayed_client(req, st->client_addr, sizeof st->client_addr);
    st->policy_spent_ms = relayed_policy_spent(req);
  }
  st->next = R.live;
  if (R.live)
    R.live->prev = st;
  R.live = st;
  relay_req **stub = h2o_mem_alloc_shared(&req->pool, sizeof *stub, on_dispose);
  *stub = st;
  return st;
}

/* st->room_key known: any node refuses what the home would refuse, then the room is
 * located. */
static void relay_go(relay_req *st) {
  h2o_req_t *req = st->req;
  if (!st->join && !st->relayed) {
    size_t key_len;
    const uint8_t *key = cluster_secret(st->api->cluster, &key_len);
    char token[CONF_TOKEN_MAX];
    if (!api_read_token(req, token, sizeof token) ||
        ctoken_check(key, key_len, token, strlen(token), st->room_key,
                     (int64_t)time(NULL), NULL) != CTOKEN_OK)
      return failed(req, 403, "Invalid token");
  }
  if (st->join && !st->relayed)
    locate_join(st);
  else
    st->locate = cluster_locate(st->api->cluster, st->room_key, st->join, st->relayed,
                                on_located, st);
}

void relay_handle(api *a, h2o_req_t *req, const api_route *route, const char *room_key) {
  int relayed = check_relayed(a, req);
  if (relayed < 0)
    return;
  relay_req *st = new_req(a, req, route, relayed);
  snprintf(st->room_key, sizeof st->room_key, "%s", room_key);
  relay_go(st);
}

/* ---- ad-hoc rooms: an alias in no store, which the policy server may know ---- */

#define NOT_FOUND "Neither conference nor gateway found"

static void on_claimed(const char *room_key, void *ud) {
  relay_req *st = ud;
  st->keying = NULL;
  if (room_key) /* else Redis did not answer: the alias (the room placed as it can be) */
    snprintf(st->room_key, sizeof st->room_key, "%s", room_key);
  relay_go(st);
}

/* The policy server's service configuration, asked where the join arrived because no
 * node has the alias: its name finds the room (or places a new one, keyed by this
 * alias); the home asks again for the join itself, with what is left of the budget. */
static void on_service(policy_service *ans, void *ud) {
  relay_req *st = ud;
  st->asking = NULL;
  h2o_req_t *req = st->req;
  if (!req)
    return;
  st->policy_spent_ms += (unsigned)(uv_now(req->conn->ctx->loop) - st->asked_ms);
  if (ans->verdict != POLICY_USE || !ans->rec || !ans->rec->name)
    return failed(req, 404,
                  NOT_FOUND); /* reject, or the store (which has no such room) */
  if (ans->rec->test_call) /* a private room: here, no lease, nobody else can join it */
    return client_v2_answer_here(st->api, req, &st->route, NULL, st->policy_spent_ms,
                                 st->route.alias);
  snprintf(st->room_key, sizeof st->room_key, "%s", st->route.alias);
  st->keying =
      cluster_adhoc_claim(st->api->cluster, ans->rec->name, st->room_key, on_claimed, st);
}

static void on_alias_key(const char *room_key, void *ud) {
  relay_req *st = ud;
  st->keying = NULL;
  if (room_key) {
    snprintf(st->room_key, sizeof st->room_key, "%s", room_key);
    return relay_go(st);
  }
  if (!st->join || !policy_asks(st->api->policy, POLICY_KIND_SERVICE))
    return failed(st->req, 404, NOT_FOUND);
  ask_bufs b;
  policy_params q = ask_params(st, &b);
  st->asked_ms = uv_now(st->req->conn->ctx->loop);
  st->asking = policy_ask_service(st->api->policy, &q, on_service, st);
}

void relay_adhoc(api *a, h2o_req_t *req, const api_route *route) {
  int relayed = check_relayed(a, req);
  if (relayed < 0)
    return;
  if (relayed) { /* the relaying node found the room key */
    size_t len;
    const char *k = http_header(req, "x-parley-room-key", &len);
    char room_key[256];
    if (!k || !len || url_decode(k, len, room_key, sizeof room_key) <= 0)
      return failed(req, 404, NOT_FOUND);
    relay_req *st = new_req(a, req, route, true);
    snprintf(st->room_key, sizeof st->room_key, "%s", room_key);
    return relay_go(st);
  }
  if (!policy_asks(a->policy, POLICY_KIND_SERVICE))
    return failed(req, 404, NOT_FOUND);
  relay_req *st = new_req(a, req, route, false);
  st->keying = cluster_adhoc_find(a->cluster, route->alias, on_alias_key, st);
}

void relay_metrics(buf *out) {
  buf_appendf(out,
              "# HELP parley_cluster_relayed_requests_total Client API requests relayed "
              "to their room's home node.\n"
              "# TYPE parley_cluster_relayed_requests_total counter\n"
              "parley_cluster_relayed_requests_total %llu\n"
              "# HELP parley_cluster_relay_errors_total Relayed requests that failed "
              "(the home unreachable, or gone mid-response).\n"
              "# TYPE parley_cluster_relay_errors_total counter\n"
              "parley_cluster_relay_errors_total %llu\n"
              "# HELP parley_cluster_relayed_streams Event streams relayed now.\n"
              "# TYPE parley_cluster_relayed_streams gauge\n"
              "parley_cluster_relayed_streams %llu\n",
              (unsigned long long)R.relayed, (unsigned long long)R.errors,
              (unsigned long long)R.streams);
}

void relay_shutdown(void) {
  for (relay_req *st = R.live; st; st = st->next) {
    cluster_locate_cancel(st->locate);
    st->locate = NULL;
    policy_call_cancel(st->asking);
    st->asking = NULL;
    cluster_key_call_cancel(st->keying);
    st->keying = NULL;
    st->call = NULL; /* http_client_free drops it */
  }
  http_client_free(R.http);
  R.http = NULL;
}
