/* rtm_cluster — RTM in cluster mode: pl:rtm:<session_id> registrations of the sessions
 * held here, refreshed while they last, and lookups of sessions held elsewhere. */
#include "api/rtm_cluster.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_PREFIX "pl:rtm:"
#define IO_PATH "/api/rtm/v1/io"

/* Deletes KEYS[1] only while it still names this node (ARGV[1] = "<node_id>\n"): a
 * session id that moved on (ended here, started again elsewhere) keeps its new owner. */
static const char UNREGISTER_LUA[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then "
    "return redis.call('DEL', KEYS[1]) end return 0";

struct rtmc {
  uv_loop_t *loop;
  credis *r;
  rtm_core *core;
  char node_id[64];
  char endpoint[300];
  uv_timer_t refresh;
};

struct rtmc_lookup {
  void (*cb)(const rtmc_where *w, void *ud); /* NULL once cancelled */
  void *ud;
};

typedef struct {
  void (*done)(void *ud);
  void *ud;
} reg_call;

bool rtmc_ws_url(const char *http_url, char *out, size_t n) {
  const char *scheme, *rest;
  if (strncasecmp(http_url, "https://", 8) == 0)
    scheme = "wss", rest = http_url + 8;
  else if (strncasecmp(http_url, "http://", 7) == 0)
    scheme = "ws", rest = http_url + 7;
  else
    return false;
  size_t host = strcspn(rest, "/?#");
  if (host == 0)
    return false;
  int w = snprintf(out, n, "%s://%.*s%s", scheme, (int)host, rest, IO_PATH);
  return w > 0 && (size_t)w < n;
}

bool rtmc_parse_value(const char *v, size_t len, rtmc_where *w) {
  memset(w, 0, sizeof *w);
  if (memchr(v, '\0', len)) /* none of its three parts may hold one */
    return false;
  const char *end = v + len;
  const char *nl1 = memchr(v, '\n', len);
  if (!nl1)
    return false;
  const char *nl2 = memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1));
  if (!nl2)
    return false;
  size_t node = (size_t)(nl1 - v), cid = (size_t)(nl2 - nl1 - 1),
         ep = (size_t)(end - nl2 - 1);
  if (node == 0 || node >= sizeof w->node_id || cid >= sizeof w->cid || ep == 0 ||
      ep >= sizeof w->ws_endpoint)
    return false;
  memcpy(w->node_id, v, node);
  memcpy(w->cid, nl1 + 1, cid);
  memcpy(w->ws_endpoint, nl2 + 1, ep);
  w->found = true;
  return true;
}

static void set_key(rtmc *m, const char *session_id, const char *cid, credis_reply_cb cb,
                    void *ud) {
  char key[160], value[512], ttl[24];
  snprintf(key, sizeof key, KEY_PREFIX "%s", session_id);
  snprintf(value, sizeof value, "%s\n%s\n%s", m->node_id, cid, m->endpoint);
  snprintf(ttl, sizeof ttl, "%d", RTMC_TTL_MS);
  const char *argv[] = {"SET", key, value, "PX", ttl};
  credis_command(m->r, cb, ud, 5, argv, NULL); /* cb runs even when refused */
}

static void ignore_reply(redisReply *r, void *ud) {
  (void)r;
  (void)ud;
}

static void each_agent(const char *session_id, const char *cid, void *ud) {
  set_key(ud, session_id, cid, ignore_reply, NULL);
}

/* Every 2 s: one SET per session held here (pipelined by hiredis), so a node that
 * dies takes its registrations with it within RTMC_TTL_MS. */
static void on_refresh(uv_timer_t *t) {
  rtmc *m = t->data;
  if (credis_up(m->r))
    rtm_core_each_agent(m->core, each_agent, m);
}

rtmc *rtmc_new(uv_loop_t *loop, cluster *c, rtm_core *core, const char *node_url) {
  rtmc *m = xcalloc(1, sizeof *m);
  m->loop = loop;
  m->r = cluster_redis(c);
  m->core = core;
  snprintf(m->node_id, sizeof m->node_id, "%s", cluster_node_id(c));
  if (!rtmc_ws_url(node_url, m->endpoint, sizeof m->endpoint))
    log_warn("rtm", "--node-url %s gives no WebSocket URL for RTM clients", node_url);
  uv_timer_init(loop, &m->refresh);
  m->refresh.data = m;
  uv_timer_start(&m->refresh, on_refresh, RTMC_REFRESH_MS, RTMC_REFRESH_MS);
  return m;
}

static void free_after_close(uv_handle_t *h) { free(h->data); }

void rtmc_free(rtmc *m) {
  if (!m)
    return;
  uv_timer_stop(&m->refresh);
  uv_close((uv_handle_t *)&m->refresh, free_after_close);
}

const char *rtmc_endpoint(const rtmc *m) { return m->endpoint; }
const char *rtmc_node_id(const rtmc *m) { return m->node_id; }

static void on_registered(redisReply *r, void *ud) {
  reg_call *call = ud;
  if (!r || r->type == REDIS_REPLY_ERROR)
    log_warn("rtm", "could not register a session in the cluster: %s",
             r ? r->str : "Redis is unreachable");
  if (call->done)
    call->done(call->ud);
  free(call);
}

void rtmc_register(rtmc *m, const char *session_id, const char *cid,
                   void (*done)(void *ud), void *ud) {
  reg_call *call = xmalloc(sizeof *call);
  *call = (reg_call){done, ud};
  set_key(m, session_id, cid, on_registered, call);
}

void rtmc_unregister(rtmc *m, const char *session_id) {
  char key[160], who[80];
  snprintf(key, sizeof key, KEY_PREFIX "%s", session_id);
  snprintf(who, sizeof who, "%s\n", m->node_id);
  const char *argv[] = {"EVAL", UNREGISTER_LUA, "1", key, who};
  credis_command(m->r, ignore_reply, NULL, 5, argv, NULL);
}

static void on_found(redisReply *r, void *ud) {
  rtmc_lookup *l = ud;
  rtmc_where w = {0};
  if (r && r->type == REDIS_REPLY_STRING && !rtmc_parse_value(r->str, r->len, &w))
    log_warn("rtm", "a malformed session registration in Redis is ignored");
  if (l->cb)
    l->cb(&w, l->ud);
  free(l);
}

rtmc_lookup *rtmc_find(rtmc *m, const char *session_id,
                       void (*cb)(const rtmc_where *w, void *ud), void *ud) {
  rtmc_lookup *l = xmalloc(sizeof *l);
  *l = (rtmc_lookup){cb, ud};
  char key[160];
  snprintf(key, sizeof key, KEY_PREFIX "%s", session_id);
  const char *argv[] = {"GET", key};
  credis_command(m->r, on_found, l, 2, argv, NULL);
  return l;
}

void rtmc_find_cancel(rtmc_lookup *l) {
  if (l)
    l->cb = NULL;
}
