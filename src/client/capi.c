/* capi — client API v2 calls, token refresh and the event stream over http/client. */
#include "client/capi.h"

#include "client/sse_reader.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_MAX (1u << 20)  /* a REST answer kept for parsing, at most */
#define STREAM_QUIET_MS 45000 /* no byte for this long (3 keep-alives): reopen */
#define STREAM_RETRIES 5      /* reopen attempts in a row before giving up */

typedef struct pending {
  struct capi *c;
  http_call *call;
  capi_cb cb;
  void *ud;
  struct pending *prev, *next;
} pending;

struct capi {
  uv_loop_t *loop;
  http_client *http;
  char host[256];
  uint16_t port;
  char resolve[1200];
  bool plain_http, insecure;
  char *ca_file;
  int timeout_ms;
  char base[800]; /* scheme://host:port/api/client/v2/conferences/<alias>/ */
  char target[300];
  char token[1024];
  char uuid[64];
  char role[16];
  unsigned expires_s;
  uint64_t token_until; /* loop time the token lapses */
  unsigned refreshes;
  pending *calls;
  /* session */
  capi_session_cbs cbs;
  void *cbs_ud;
  bool session, closing;
  uv_timer_t refresh_timer, stream_timer;
  http_call *refresh_call;
  http_call *stream;
  sse_reader reader;
  uint64_t stream_rx_at;
  int stream_failures;
  bool stream_open;
  char stream_error[256];
  int timers_open;
  bool freed;
};

bool capi_escape(const char *s, char *out, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || strchr("-._~", ch);
    if (o + (plain ? 1 : 3) >= n)
      return false;
    if (plain) {
      out[o++] = (char)ch;
    } else {
      out[o++] = '%';
      out[o++] = hex[ch >> 4];
      out[o++] = hex[ch & 15];
    }
  }
  out[o] = '\0';
  return true;
}

capi *capi_new(uv_loop_t *loop, http_client *http, const capi_endpoint *ep,
               const char *alias) {
  capi *c = xcalloc(1, sizeof *c);
  c->loop = loop;
  c->http = http;
  snprintf(c->host, sizeof c->host, "%s", ep->host);
  c->port = ep->port;
  if (ep->resolve)
    snprintf(c->resolve, sizeof c->resolve, "%s", ep->resolve);
  c->plain_http = ep->plain_http;
  c->insecure = ep->insecure;
  c->ca_file = ep->ca_file ? xstrdup(ep->ca_file) : NULL;
  c->timeout_ms = ep->timeout_ms > 0 ? ep->timeout_ms : 10000;
  char esc[400];
  if (!capi_escape(alias, esc, sizeof esc))
    esc[0] = '\0';
  bool v6 = strchr(c->host, ':') != NULL;
  snprintf(c->target, sizeof c->target, "%s%s%s:%u", v6 ? "[" : "", c->host,
           v6 ? "]" : "", c->port);
  snprintf(c->base, sizeof c->base, "%s://%s/api/client/v2/conferences/%s/",
           c->plain_http ? "http" : "https", c->target, esc);
  uv_timer_init(loop, &c->refresh_timer);
  uv_timer_init(loop, &c->stream_timer);
  c->refresh_timer.data = c->stream_timer.data = c;
  c->timers_open = 2;
  sse_reader_init(&c->reader, NULL, NULL);
  return c;
}

static void on_timer_closed(uv_handle_t *h) {
  capi *c = h->data;
  if (--c->timers_open == 0 && c->freed)
    free(c);
}

static void stop_session(capi *c) {
  c->closing = true;
  uv_timer_stop(&c->refresh_timer);
  uv_timer_stop(&c->stream_timer);
  if (c->refresh_call) {
    http_call_cancel(c->refresh_call);
    c->refresh_call = NULL;
  }
  if (c->stream) {
    http_call_cancel(c->stream);
    c->stream = NULL;
  }
}

void capi_free(capi *c) {
  if (!c)
    return;
  stop_session(c);
  while (c->calls) {
    pending *p = c->calls;
    c->calls = p->next;
    http_call_cancel(p->call);
    free(p);
  }
  sse_reader_free(&c->reader);
  free(c->ca_file);
  c->freed = true;
  uv_close((uv_handle_t *)&c->refresh_timer, on_timer_closed);
  uv_close((uv_handle_t *)&c->stream_timer, on_timer_closed);
}

const char *capi_token(const capi *c) { return c->token; }
const char *capi_participant_uuid(const capi *c) { return c->uuid; }
const char *capi_role(const capi *c) { return c->role; }
const char *capi_target(const capi *c) { return c->target; }
unsigned capi_refreshes(const capi *c) { return c->refreshes; }

/* ---- one request ---- */

static void fill_request(capi *c, http_request *req, const char **headers,
                         const char **resolve) {
  resolve[0] = c->resolve[0] ? c->resolve : NULL;
  resolve[1] = NULL;
  req->headers = headers;
  req->resolve = resolve;
  req->ca_file = c->ca_file;
  req->insecure = c->insecure;
  req->timeout_ms = c->timeout_ms;
  req->connect_timeout_ms = c->timeout_ms;
}

static void parse_reply(const http_result *res, capi_reply *r) {
  memset(r, 0, sizeof *r);
  r->status = res->status;
  r->not_connected = res->not_connected;
  r->error = res->error ? res->error : "";
  if (res->status && res->body_len) {
    r->body = json_loadb(res->body, res->body_len, 0, NULL);
    if (r->body && json_is_object(r->body))
      r->result = json_object_get(r->body, "result");
  }
}

static void on_done(const http_result *res, void *ud) {
  pending *p = ud;
  capi *c = p->c;
  if (p->prev)
    p->prev->next = p->next;
  else
    c->calls = p->next;
  if (p->next)
    p->next->prev = p->prev;
  capi_reply r;
  parse_reply(res, &r);
  capi_cb cb = p->cb;
  void *cud = p->ud;
  free(p);
  if (cb)
    cb(&r, cud);
  json_decref(r.body);
}

static void send_call(capi *c, const char *method, const char *path, const char *body,
                      const char *pin, bool with_token, capi_cb cb, void *ud) {
  char url[1200], tokh[1100], pinh[128];
  snprintf(url, sizeof url, "%s%s", c->base, path);
  const char *headers[5], *resolve[2];
  size_t h = 0;
  if (body)
    headers[h++] = "Content-Type: application/json";
  if (with_token) {
    snprintf(tokh, sizeof tokh, "token: %s", c->token);
    headers[h++] = tokh;
  }
  if (pin) {
    snprintf(pinh, sizeof pinh, "pin: %s", pin);
    headers[h++] = pinh;
  }
  headers[h++] = "Accept: application/json";
  headers[h] = NULL;
  http_request req = {.method = method, .url = url, .max_response_bytes = REPLY_MAX};
  if (body) {
    req.body = body;
    req.body_len = strlen(body);
  } else if (strcmp(method, "POST") == 0) {
    req.body = "";
    req.body_len = 0;
  }
  fill_request(c, &req, headers, resolve);
  pending *p = xcalloc(1, sizeof *p);
  p->c = c;
  p->cb = cb;
  p->ud = ud;
  p->next = c->calls;
  if (c->calls)
    c->calls->prev = p;
  c->calls = p;
  p->call = http_client_send(c->http, &req, on_done, p);
}

void capi_call(capi *c, const char *method, const char *path, json_t *body, capi_cb cb,
               void *ud) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  send_call(c, method, path, text, NULL, true, cb, ud);
  free(text);
}

/* ---- request_token ---- */

typedef struct {
  capi *c;
  capi_cb cb;
  void *ud;
} token_ctx;

static unsigned expires_of(json_t *result) {
  json_t *e = json_object_get(result, "expires");
  unsigned v = 0;
  if (json_is_string(e))
    v = (unsigned)strtoul(json_string_value(e), NULL, 10);
  else if (json_is_integer(e))
    v = (unsigned)json_integer_value(e);
  return v ? v : 120;
}

static void keep_token(capi *c, json_t *result) {
  const char *tok = json_string_value(json_object_get(result, "token"));
  if (tok)
    snprintf(c->token, sizeof c->token, "%s", tok);
  c->expires_s = expires_of(result);
  c->token_until = uv_now(c->loop) + (uint64_t)c->expires_s * 1000;
  const char *role = json_string_value(json_object_get(result, "role"));
  if (role)
    snprintf(c->role, sizeof c->role, "%s", role);
}

static void on_token(const capi_reply *r, void *ud) {
  token_ctx *t = ud;
  capi *c = t->c;
  if (r->status == 200 && json_is_object(r->result)) {
    keep_token(c, r->result);
    const char *uuid = json_string_value(json_object_get(r->result, "participant_uuid"));
    if (uuid)
      snprintf(c->uuid, sizeof c->uuid, "%s", uuid);
  }
  capi_cb cb = t->cb;
  void *cud = t->ud;
  free(t);
  cb(r, cud);
}

void capi_request_token(capi *c, const char *display_name, const char *pin, capi_cb cb,
                        void *ud) {
  json_t *b = json_pack("{s:s, s:s, s:b}", "display_name", display_name, "client_id",
                        "parley-cli", "supports_direct_chat", 0);
  char *text = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  token_ctx *t = xcalloc(1, sizeof *t);
  t->c = c;
  t->cb = cb;
  t->ud = ud;
  send_call(c, "POST", "request_token", text, pin, false, on_token, t);
  free(text);
}

/* ---- the session: refresh and events ---- */

static void session_fail(capi *c, const char *why) {
  if (c->closing)
    return;
  stop_session(c);
  if (c->cbs.on_fail)
    c->cbs.on_fail(why, c->cbs_ud);
}

static void on_refresh_timer(uv_timer_t *t);

static void arm_refresh(capi *c, uint64_t ms) {
  uv_timer_start(&c->refresh_timer, on_refresh_timer, ms ? ms : 1, 0);
}

static void on_refreshed(const http_result *res, void *ud) {
  capi *c = ud;
  c->refresh_call = NULL;
  capi_reply r;
  parse_reply(res, &r);
  if (r.status == 200 && json_is_object(r.result) &&
      json_is_string(json_object_get(r.result, "token"))) {
    keep_token(c, r.result);
    c->refreshes++;
    arm_refresh(c, (uint64_t)c->expires_s * 1000 / 3);
  } else if (r.status == 0 || r.status >= 500) {
    /* Unreachable for now: try again each second while the token still holds. */
    if (uv_now(c->loop) + 1000 < c->token_until) {
      arm_refresh(c, 1000);
    } else {
      char why[400];
      snprintf(why, sizeof why, "could not refresh the token in time: %s",
               r.status ? "server error" : r.error);
      session_fail(c, why);
    }
  } else {
    char why[400];
    const char *s = json_string_value(r.result);
    snprintf(why, sizeof why, "token refused on refresh (HTTP %d%s%s)", r.status,
             s ? ": " : "", s ? s : "");
    session_fail(c, why);
  }
  json_decref(r.body);
}

static void on_refresh_timer(uv_timer_t *t) {
  capi *c = t->data;
  if (c->closing || c->refresh_call)
    return;
  char url[1200], tokh[1100];
  snprintf(url, sizeof url, "%srefresh_token", c->base);
  snprintf(tokh, sizeof tokh, "token: %s", c->token);
  const char *headers[] = {tokh, NULL}, *resolve[2];
  http_request req = {
      .method = "POST", .url = url, .body = "", .max_response_bytes = REPLY_MAX};
  fill_request(c, &req, headers, resolve);
  c->refresh_call = http_client_send(c->http, &req, on_refreshed, c);
}

static void open_stream(capi *c);

static void on_sse_event(const sse_event *ev, void *ud) {
  capi *c = ud;
  if (c->closing)
    return;
  c->stream_failures = 0; /* a stream that delivers is a good one */
  json_t *data = json_loadb(ev->data, ev->data_len, JSON_DECODE_ANY, NULL);
  if (!data)
    data = json_null();
  if (c->cbs.on_event)
    c->cbs.on_event(ev->name, data, c->cbs_ud);
  json_decref(data);
}

static void on_stream_head(int status, const char *const *lines, size_t n, void *ud) {
  capi *c = ud;
  (void)lines;
  (void)n;
  c->stream_rx_at = uv_now(c->loop);
  if (status != 200) {
    snprintf(c->stream_error, sizeof c->stream_error, "event stream answered HTTP %d",
             status);
    return;
  }
  c->stream_open = true;
}

static bool on_stream_data(const char *data, size_t len, void *ud) {
  capi *c = ud;
  c->stream_rx_at = uv_now(c->loop);
  if (c->stream_open)
    sse_reader_feed(&c->reader, data, len);
  return true;
}

static void on_stream_retry(uv_timer_t *t);

static void on_stream_done(const http_result *res, void *ud) {
  capi *c = ud;
  c->stream = NULL;
  c->stream_open = false;
  if (c->closing)
    return;
  if (!c->stream_error[0])
    snprintf(c->stream_error, sizeof c->stream_error, "event stream ended%s%s",
             res->error && res->error[0] ? ": " : "", res->error ? res->error : "");
  if (++c->stream_failures > STREAM_RETRIES) {
    session_fail(c, c->stream_error);
    return;
  }
  /* Reopen after 100 ms, 200 ms, 400 ms... with the newest token. */
  uv_timer_start(&c->stream_timer, on_stream_retry, 100u << (c->stream_failures - 1), 0);
}

static void on_stream_watch(uv_timer_t *t) {
  capi *c = t->data;
  if (!c->stream)
    return;
  if (uv_now(c->loop) - c->stream_rx_at >= STREAM_QUIET_MS) {
    http_call_cancel(c->stream);
    c->stream = NULL;
    c->stream_open = false;
    snprintf(c->stream_error, sizeof c->stream_error, "event stream silent for %d s",
             STREAM_QUIET_MS / 1000);
    c->stream_failures++;
    uv_timer_start(&c->stream_timer, on_stream_retry, 100, 0);
    return;
  }
  uv_timer_start(&c->stream_timer, on_stream_watch, 5000, 0);
}

static void on_stream_retry(uv_timer_t *t) {
  capi *c = t->data;
  if (!c->closing)
    open_stream(c);
}

static void open_stream(capi *c) {
  static const http_stream_cbs cbs = {.on_head = on_stream_head,
                                      .on_data = on_stream_data};
  char url[1200], tokh[1100];
  snprintf(url, sizeof url, "%sevents", c->base);
  snprintf(tokh, sizeof tokh, "token: %s", c->token);
  const char *headers[] = {tokh, "Accept: text/event-stream", NULL}, *resolve[2];
  http_request req = {.method = "GET", .url = url, .stall_timeout_s = -1};
  fill_request(c, &req, headers, resolve);
  req.timeout_ms = 0; /* a stream lasts as long as the session */
  c->stream_error[0] = '\0';
  sse_reader_reset(&c->reader);
  c->reader.cb = on_sse_event;
  c->reader.ud = c;
  c->stream_rx_at = uv_now(c->loop);
  c->stream = http_client_stream(c->http, &req, &cbs, on_stream_done, c);
  uv_timer_start(&c->stream_timer, on_stream_watch, 5000, 0);
}

void capi_start_session(capi *c, const capi_session_cbs *cbs, void *ud) {
  c->cbs = *cbs;
  c->cbs_ud = ud;
  c->session = true;
  arm_refresh(c, (uint64_t)c->expires_s * 1000 / 3);
  open_stream(c);
}

void capi_release(capi *c, capi_cb cb, void *ud) {
  stop_session(c);
  send_call(c, "POST", "release_token", "{}", NULL, true, cb, ud);
}
