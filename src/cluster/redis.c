/* redis — hiredis 0.14 async on the libuv loop (its libuv adapter, mended): a command and
 * a subscription connection, each connected without blocking (names resolved by
 * uv_getaddrinfo, the TCP connect non-blocking), authenticated, and reconnected with
 * backoff. */
#include "cluster/redis.h"

#include "core/log.h"
#include "core/mem.h"
#include "http/url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/async.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define CONNECT_TIMEOUT_MS 3000
#define REPLY_TIMEOUT_MS 5000 /* a command unanswered this long: the link is dead */
#define MAX_HOOKS 8

typedef struct credis_conn credis_conn;

typedef struct resolve_req {
  uv_getaddrinfo_t req;
  credis_conn *conn; /* NULL once the connection is gone */
} resolve_req;

struct credis_conn {
  credis *r;
  bool sub; /* the subscription connection */
  redisAsyncContext *ac;
  bool up;
  bool ever_up;
  uint64_t backoff_ms;
  uint64_t connect_started;
  uv_timer_t retry;
  resolve_req *resolving;
};

typedef struct fail_item {
  credis_reply_cb cb;
  void *ud;
  struct fail_item *next;
} fail_item;

typedef struct sub_item {
  char *channel;
  void (*on_msg)(const char *data, size_t len, void *ud);
  void *ud;
  struct sub_item *next;
} sub_item;

typedef struct {
  void (*cb)(void *ud);
  void *ud;
} hook;

struct credis {
  uv_loop_t *loop;
  credis_url url;
  credis_conn cmd, subc;
  uv_timer_t watch;     /* connect and reply time-outs, once a second */
  uv_timer_t fail_soon; /* runs the fail queue on the next iteration */
  fail_item *fail_head, *fail_tail;
  sub_item *subs;
  hook on_up[MAX_HOOKS], on_down[MAX_HOOKS];
  int n_up, n_down;
  unsigned inflight;
  uint64_t last_progress;
  bool closing;
  int open_handles; /* freed when the last closes */
  unsigned long reconnects, commands, failed;
};

typedef struct {
  credis *r;
  credis_reply_cb cb;
  void *ud;
} pending;

int credis_parse_url(const char *url, credis_url *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->port = 6379;
  if (strncmp(url, "rediss://", 9) == 0) {
    snprintf(err, errlen,
             "rediss:// (TLS) is not supported by hiredis 0.14; reach Redis "
             "over a private network or a TLS tunnel");
    return -1;
  }
  if (strncmp(url, "redis://", 8) != 0) {
    snprintf(err, errlen, "the URL must start with redis://");
    return -1;
  }
  const char *p = url + 8;
  const char *end = p + strcspn(p, "/?#");
  const char *at = NULL;
  for (const char *q = p; q < end; q++)
    if (*q == '@')
      at = q;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon) {
      snprintf(err, errlen, "credentials must be [USER]:PASSWORD@");
      return -1;
    }
    if (url_decode(p, (size_t)(colon - p), out->user, sizeof out->user) < 0 ||
        url_decode(colon + 1, (size_t)(at - colon - 1), out->password,
                   sizeof out->password) < 0) {
      snprintf(err, errlen, "user or password too long or badly %%-encoded");
      return -1;
    }
    if (!out->password[0]) {
      snprintf(err, errlen, "an empty password after ':'");
      return -1;
    }
    p = at + 1;
  }
  const char *host_end;
  const char *h = p;
  if (*p == '[') {
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close) {
      snprintf(err, errlen, "an IPv6 address needs its closing ']'");
      return -1;
    }
    h = p + 1;
    host_end = close;
    p = close + 1;
  } else {
    host_end = p;
    while (host_end < end && *host_end != ':')
      host_end++;
    p = host_end;
  }
  if (host_end == h || (size_t)(host_end - h) >= sizeof out->host) {
    snprintf(err, errlen, "no host, or a host too long");
    return -1;
  }
  for (const char *q = h; q < host_end; q++)
    if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
          (*q >= '0' && *q <= '9') || *q == '.' || *q == '-' || *q == '_' || *q == ':')) {
      snprintf(err, errlen, "a bad character in the host");
      return -1;
    }
  memcpy(out->host, h, (size_t)(host_end - h));
  out->host[host_end - h] = '\0';
  if (p < end && *p == ':') {
    char *e;
    errno = 0;
    long port = strtol(p + 1, &e, 10);
    if (errno || e != end || e == p + 1 || port < 1 || port > 65535 || p[1] == '+' ||
        p[1] == '-') {
      snprintf(err, errlen, "the port must be 1 to 65535");
      return -1;
    }
    out->port = (int)port;
  } else if (p != end) {
    snprintf(err, errlen, "unexpected characters after the host");
    return -1;
  }
  if (*end == '/' && end[1]) {
    char *e;
    errno = 0;
    long db = strtol(end + 1, &e, 10);
    if (errno || *e || db < 0 || db > 1000000 || end[1] == '+' || end[1] == '-') {
      snprintf(err, errlen, "the database must be a number, as in redis://host:6379/0");
      return -1;
    }
    out->db = (int)db;
  } else if (*end && !(*end == '/' && !end[1])) {
    snprintf(err, errlen, "unexpected \"%s\" after the host", end);
    return -1;
  }
  return 0;
}

/* --- the event adapter ---
 * hiredis 0.14.1's adapters/libuv.h, with one fix: libuv reports POLLERR (e.g. a
 * refused connect) as a poll error and stops the handle, and that adapter ignores
 * poll errors, so the connection would hang until the watchdog's 3 s. Here an error
 * is handed to hiredis, which sees the socket's error and disconnects at once. */
typedef struct {
  redisAsyncContext *context;
  uv_poll_t handle;
  int events;
} uv_events;

static void ev_poll(uv_poll_t *handle, int status, int events) {
  uv_events *p = handle->data;
  if (status != 0) {
    if (p->context && !(p->context->c.flags & REDIS_CONNECTED))
      redisAsyncHandleWrite(p->context); /* runs the connect callback with the error */
    else if (p->context)
      redisAsyncHandleRead(p->context); /* reads the error, disconnects */
    return;
  }
  if (p->context && (events & UV_READABLE))
    redisAsyncHandleRead(p->context);
  if (p->context && (events & UV_WRITABLE))
    redisAsyncHandleWrite(p->context);
}

static void ev_update(uv_events *p) {
  if (p->events)
    uv_poll_start(&p->handle, p->events, ev_poll);
  else
    uv_poll_stop(&p->handle);
}
static void ev_add_read(void *d) {
  ((uv_events *)d)->events |= UV_READABLE;
  ev_update(d);
}
static void ev_del_read(void *d) {
  ((uv_events *)d)->events &= ~UV_READABLE;
  ev_update(d);
}
static void ev_add_write(void *d) {
  ((uv_events *)d)->events |= UV_WRITABLE;
  ev_update(d);
}
static void ev_del_write(void *d) {
  ((uv_events *)d)->events &= ~UV_WRITABLE;
  ev_update(d);
}
static void ev_closed(uv_handle_t *h) { free(h->data); }
static void ev_cleanup(void *d) {
  uv_events *p = d;
  p->context = NULL;
  uv_close((uv_handle_t *)&p->handle, ev_closed);
}

static int ev_attach(redisAsyncContext *ac, uv_loop_t *loop) {
  if (ac->ev.data)
    return REDIS_ERR;
  uv_events *p = xcalloc(1, sizeof *p);
  if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
    free(p);
    return REDIS_ERR;
  }
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  ac->ev.cleanup = ev_cleanup;
  ac->ev.data = p;
  p->handle.data = p;
  p->context = ac;
  return REDIS_OK;
}

/* --- connections --- */

static void conn_start(credis_conn *c);
static void on_retry(uv_timer_t *t);

static void schedule_retry(credis_conn *c) {
  if (c->r->closing)
    return;
  uint64_t d = c->backoff_ms;
  c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
  uv_timer_start(&c->retry, on_retry, d, 0);
}

static void went_down(credis_conn *c, const char *why) {
  credis *r = c->r;
  bool was_up = c->up;
  c->up = false;
  if (was_up) {
    log_warn("cluster", "redis %s connection to %s:%d lost: %s",
             c->sub ? "pub/sub" : "command", r->url.host, r->url.port, why);
    if (!c->sub)
      for (int i = 0; i < r->n_down; i++)
        r->on_down[i].cb(r->on_down[i].ud);
  }
}

/* Drops the connection now (pending callbacks get NULL) and retries later. */
static void conn_drop(credis_conn *c, const char *why) {
  redisAsyncContext *ac = c->ac;
  c->ac = NULL;
  went_down(c, why);
  if (ac) {
    ac->data = NULL; /* its disconnect callback must not touch c */
    redisAsyncFree(ac);
  }
  schedule_retry(c);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  credis_conn *c = ac->data;
  if (!c)
    return;
  c->ac = NULL; /* hiredis frees it after this returns */
  went_down(c, status == REDIS_OK ? "closed" : (ac->errstr ? ac->errstr : "error"));
  schedule_retry(c);
}

static void became_up(credis_conn *c) {
  credis *r = c->r;
  c->up = true;
  c->backoff_ms = BACKOFF_MIN_MS;
  if (c->ever_up)
    r->reconnects++;
  log_info("cluster", "redis %s connection to %s:%d %s", c->sub ? "pub/sub" : "command",
           r->url.host, r->url.port, c->ever_up ? "restored" : "up");
  c->ever_up = true;
  if (c->sub)
    return;
  r->last_progress = uv_now(r->loop);
  for (int i = 0; i < r->n_up && c->up; i++)
    r->on_up[i].cb(r->on_up[i].ud);
}

static bool reply_ok(const redisReply *rep) {
  return rep && rep->type != REDIS_REPLY_ERROR;
}

static void on_sub_msg(redisAsyncContext *ac, void *reply, void *priv) {
  redisReply *rep = reply;
  sub_item *s = priv;
  (void)ac;
  if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
    return;
  redisReply *kind = rep->element[0], *data = rep->element[2];
  if (kind->type == REDIS_REPLY_STRING && strcmp(kind->str, "message") == 0 &&
      data->type == REDIS_REPLY_STRING)
    s->on_msg(data->str, data->len, s->ud);
}

static void subscribe_one(credis_conn *c, sub_item *s) {
  redisAsyncCommand(c->ac, on_sub_msg, s, "SUBSCRIBE %b", s->channel, strlen(s->channel));
}

/* The handshake, one step per reply: AUTH, SELECT, PING (commands) or AUTH then the
 * SUBSCRIBEs (pub/sub). */
static void on_handshake(redisAsyncContext *ac, void *reply, void *priv) {
  credis_conn *c = ac->data;
  uintptr_t step = (uintptr_t)priv;
  redisReply *rep = reply;
  if (!c)
    return;
  if (!reply_ok(rep)) {
    log_error("cluster", "redis %s:%d refused the %s: %s", c->r->url.host, c->r->url.port,
              step == 0   ? "AUTH"
              : step == 1 ? "SELECT"
                          : "PING",
              rep && rep->str ? rep->str : "no reply");
    redisAsyncDisconnect(ac);
    return;
  }
  if (c->sub) {
    for (sub_item *s = c->r->subs; s; s = s->next)
      subscribe_one(c, s);
    became_up(c);
    return;
  }
  if (step == 2)
    became_up(c);
}

static void on_connect(const redisAsyncContext *cac, int status) {
  redisAsyncContext *ac = (redisAsyncContext *)cac;
  credis_conn *c = ac->data;
  if (!c)
    return;
  if (status != REDIS_OK) {
    log_debug("cluster", "redis connect to %s:%d failed: %s", c->r->url.host,
              c->r->url.port, ac->errstr ? ac->errstr : "?");
    c->ac = NULL; /* hiredis frees it */
    schedule_retry(c);
    return;
  }
  credis *r = c->r;
  if (r->url.password[0]) {
    if (r->url.user[0])
      redisAsyncCommand(ac, on_handshake, (void *)0, "AUTH %s %s", r->url.user,
                        r->url.password);
    else
      redisAsyncCommand(ac, on_handshake, (void *)0, "AUTH %s", r->url.password);
  }
  if (c->sub) {
    if (!r->url.password[0])
      on_handshake(ac, &(redisReply){.type = REDIS_REPLY_STATUS}, (void *)0);
    return;
  }
  if (r->url.db)
    redisAsyncCommand(ac, on_handshake, (void *)1, "SELECT %d", r->url.db);
  redisAsyncCommand(ac, on_handshake, (void *)2, "PING");
}

static void do_connect(credis_conn *c, const char *ip) {
  redisAsyncContext *ac = redisAsyncConnect(ip, c->r->url.port);
  if (!ac || ac->err) {
    log_debug("cluster", "redis connect to %s:%d: %s", ip, c->r->url.port,
              ac ? ac->errstr : "no memory");
    if (ac)
      redisAsyncFree(ac);
    schedule_retry(c);
    return;
  }
  if (ev_attach(ac, c->r->loop) != REDIS_OK) {
    redisAsyncFree(ac);
    schedule_retry(c);
    return;
  }
  ac->data = c;
  c->ac = ac;
  c->connect_started = uv_now(c->r->loop);
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  resolve_req *rr = (resolve_req *)req;
  credis_conn *c = rr->conn;
  if (c)
    c->resolving = NULL;
  if (!c || status != 0 || !res) {
    if (c) {
      log_debug("cluster", "redis host %s: %s", c->r->url.host, uv_strerror(status));
      schedule_retry(c);
    }
    uv_freeaddrinfo(res);
    free(rr);
    return;
  }
  char ip[INET6_ADDRSTRLEN];
  if (res->ai_family == AF_INET6)
    uv_ip6_name((struct sockaddr_in6 *)res->ai_addr, ip, sizeof ip);
  else
    uv_ip4_name((struct sockaddr_in *)res->ai_addr, ip, sizeof ip);
  uv_freeaddrinfo(res);
  free(rr);
  do_connect(c, ip);
}

static void conn_start(credis_conn *c) {
  unsigned char buf[sizeof(struct in6_addr)];
  const char *host = c->r->url.host;
  if (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1) {
    do_connect(c, host);
    return;
  }
  resolve_req *rr = xcalloc(1, sizeof *rr);
  rr->conn = c;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  if (uv_getaddrinfo(c->r->loop, &rr->req, on_resolved, host, NULL, &hints) != 0) {
    free(rr);
    schedule_retry(c);
    return;
  }
  c->resolving = rr;
}

static void on_retry(uv_timer_t *t) {
  credis_conn *c = t->data;
  if (!c->r->closing && !c->ac && !c->resolving)
    conn_start(c);
}

/* Once a second: a connect that hangs (a host that drops SYNs) or a command connection
 * whose oldest command has waited too long is dropped and retried. */
static void on_watch(uv_timer_t *t) {
  credis *r = t->data;
  uint64_t now = uv_now(r->loop);
  credis_conn *conns[2] = {&r->cmd, &r->subc};
  for (int i = 0; i < 2; i++) {
    credis_conn *c = conns[i];
    if (c->ac && !(c->ac->c.flags & REDIS_CONNECTED) &&
        now - c->connect_started > CONNECT_TIMEOUT_MS) {
      log_debug("cluster", "redis connect to %s:%d timed out", r->url.host, r->url.port);
      conn_drop(c, "connect timed out");
    }
  }
  if (r->cmd.ac && r->inflight > 0 && now - r->last_progress > REPLY_TIMEOUT_MS)
    conn_drop(&r->cmd, "no reply for 5 s");
}

static void init_conn(credis *r, credis_conn *c, bool sub) {
  c->r = r;
  c->sub = sub;
  c->backoff_ms = BACKOFF_MIN_MS;
  uv_timer_init(r->loop, &c->retry);
  c->retry.data = c;
  r->open_handles++;
}

credis *credis_new(uv_loop_t *loop, const char *url, char *err, size_t errlen) {
  credis_url u;
  if (credis_parse_url(url, &u, err, errlen) != 0)
    return NULL;
  credis *r = xcalloc(1, sizeof *r);
  r->loop = loop;
  r->url = u;
  init_conn(r, &r->cmd, false);
  init_conn(r, &r->subc, true);
  uv_timer_init(loop, &r->watch);
  r->watch.data = r;
  r->open_handles += 2;
  uv_timer_start(&r->watch, on_watch, 1000, 1000);
  uv_timer_init(loop, &r->fail_soon);
  r->fail_soon.data = r;
  conn_start(&r->cmd);
  conn_start(&r->subc);
  return r;
}

static void run_failures(uv_timer_t *t) {
  credis *r = t->data;
  fail_item *f = r->fail_head;
  r->fail_head = r->fail_tail = NULL;
  while (f) {
    fail_item *next = f->next;
    f->cb(NULL, f->ud);
    free(f);
    f = next;
  }
}

static void fail_later(credis *r, credis_reply_cb cb, void *ud) {
  fail_item *f = xcalloc(1, sizeof *f);
  f->cb = cb;
  f->ud = ud;
  if (r->fail_tail)
    r->fail_tail->next = f;
  else
    r->fail_head = f;
  r->fail_tail = f;
  r->failed++;
  uv_timer_start(&r->fail_soon, run_failures, 0, 0);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv) {
  pending *p = priv;
  credis *r = p->r;
  (void)ac;
  r->inflight--;
  r->last_progress = uv_now(r->loop);
  if (!reply)
    r->failed++;
  p->cb(reply, p->ud);
  free(p);
}

int credis_command(credis *r, credis_reply_cb cb, void *ud, int argc, const char **argv,
                   const size_t *lens) {
  if (!r->cmd.up || !r->cmd.ac || r->closing) {
    fail_later(r, cb, ud);
    return -1;
  }
  size_t stack_lens[32];
  size_t *heap = NULL;
  if (!lens) {
    size_t *l = argc <= 32 ? stack_lens : (heap = xcalloc((size_t)argc, sizeof *heap));
    for (int i = 0; i < argc; i++)
      l[i] = strlen(argv[i]);
    lens = l;
  }
  pending *p = xmalloc(sizeof *p);
  *p = (pending){r, cb, ud};
  if (r->inflight == 0)
    r->last_progress = uv_now(r->loop);
  int rc = redisAsyncCommandArgv(r->cmd.ac, on_reply, p, argc, argv, lens);
  free(heap);
  if (rc != REDIS_OK) {
    free(p);
    fail_later(r, cb, ud);
    return -1;
  }
  r->inflight++;
  r->commands++;
  return 0;
}

int credis_subscribe(credis *r, const char *channel,
                     void (*on_msg)(const char *data, size_t len, void *ud), void *ud) {
  sub_item *s = xcalloc(1, sizeof *s);
  s->channel = xstrdup(channel);
  s->on_msg = on_msg;
  s->ud = ud;
  s->next = r->subs;
  r->subs = s;
  if (r->subc.up && r->subc.ac)
    subscribe_one(&r->subc, s);
  return 0;
}

void credis_on_up(credis *r, void (*cb)(void *ud), void *ud) {
  if (r->n_up < MAX_HOOKS)
    r->on_up[r->n_up++] = (hook){cb, ud};
}

void credis_on_down(credis *r, void (*cb)(void *ud), void *ud) {
  if (r->n_down < MAX_HOOKS)
    r->on_down[r->n_down++] = (hook){cb, ud};
}

bool credis_up(const credis *r) { return r && r->cmd.up; }

unsigned long credis_reconnects(const credis *r) { return r->reconnects; }
unsigned long credis_commands_total(const credis *r) { return r->commands; }
unsigned long credis_failed_total(const credis *r) { return r->failed; }

/* Each of r's four timers closes here; the last frees r. */
static void on_closed(uv_handle_t *h) {
  credis *r = h->data;
  if (--r->open_handles == 0)
    free(r);
}

static void close_conn(credis_conn *c) {
  if (c->resolving) {
    c->resolving->conn = NULL; /* on_resolved frees it */
    uv_cancel((uv_req_t *)&c->resolving->req);
    c->resolving = NULL;
  }
  if (c->ac) {
    redisAsyncContext *ac = c->ac;
    c->ac = NULL;
    c->up = false;
    ac->data = NULL;
    redisAsyncFree(ac); /* pending callbacks run with NULL */
  }
  c->retry.data = c->r;
  uv_close((uv_handle_t *)&c->retry, on_closed);
}

void credis_free(credis *r) {
  if (!r)
    return;
  r->closing = true;
  close_conn(&r->cmd);
  close_conn(&r->subc);
  run_failures(&r->fail_soon);
  for (sub_item *s = r->subs, *next; s; s = next) {
    next = s->next;
    free(s->channel);
    free(s);
  }
  r->subs = NULL;
  uv_close((uv_handle_t *)&r->watch, on_closed);
  uv_close((uv_handle_t *)&r->fail_soon, on_closed);
}
