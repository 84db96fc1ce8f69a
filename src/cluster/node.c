/* node — membership in Redis: one Lua script registers this node (its hash, expiry,
 * set entry, and its state read from pl:drain:<id>) and another reads back every
 * live node, both every 2 s on the loop. */
#include "cluster/node.h"

#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define MAX_NODES 256
#define MAX_SUSPECTS 8

/* KEYS: pl:node:<id>, pl:nodes, pl:drain:<id>; ARGV: id, ttl, field, value, ...
 * Returns 1 when the node is draining. */
static const char REGISTER_LUA[] =
    "local d = redis.call('EXISTS', KEYS[3])\n"
    "local a = {}\n"
    "for i = 3, #ARGV do a[#a + 1] = ARGV[i] end\n"
    "a[#a + 1] = 'state'\n"
    "if d == 1 then a[#a + 1] = 'draining' else a[#a + 1] = 'serving' end\n"
    "redis.call('HSET', KEYS[1], unpack(a))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "return d\n";

const char CNODE_LIST_LUA[] = "local out = {}\n"
                              "for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
                              "  local h = redis.call('HGETALL', 'pl:node:' .. id)\n"
                              "  if #h == 0 then redis.call('SREM', KEYS[1], id)\n"
                              "  else\n"
                              "    if redis.call('EXISTS', 'pl:drain:' .. id) == 1 then\n"
                              "      h[#h + 1] = 'state'; h[#h + 1] = 'draining'\n"
                              "    end\n"
                              "    out[#out + 1] = id; out[#out + 1] = h\n"
                              "  end\n"
                              "end\n"
                              "return out\n";

struct cnode {
  uv_loop_t *loop;
  credis *r;
  cnode_info self;
  uv_timer_t timer;
  cnode_info *list;
  size_t n_list;
  unsigned pending;
  bool freeing;
  bool announced; /* "joined" published after the first registration */
  struct {
    char id[64];
    uint64_t updated_ms; /* its refresh time when it could not be reached */
  } suspects[MAX_SUSPECTS];
  size_t n_suspects;
};

static uint64_t unix_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

int cnode_pick(const cnode_info *nodes, size_t count, const char *region, unsigned rnd) {
  return cnode_pick_in(nodes, count, &region, 1, rnd);
}

int cnode_pick_in(const cnode_info *nodes, size_t count, const char *const *regions,
                  size_t n, unsigned rnd) {
  for (size_t pass = 0; pass <= n; pass++) { /* pass n: any region */
    int best = -1;
    unsigned ties = 0;
    for (size_t i = 0; i < count; i++) {
      if (nodes[i].draining || (pass < n && strcmp(nodes[i].region, regions[pass]) != 0))
        continue;
      if (best < 0 || nodes[i].load < nodes[best].load) {
        best = (int)i;
        ties = 1;
      } else if (nodes[i].load == nodes[best].load) {
        /* reservoir choice among equals: each of k ties wins with 1/k */
        ties++;
        if ((rnd = rnd * 1103515245u + 12345u) / 65536u % ties == 0)
          best = (int)i;
      }
    }
    if (best >= 0)
      return best;
  }
  return -1;
}

static void copy_str(char *dst, size_t cap, const redisReply *v) {
  size_t n = v->len < cap - 1 ? v->len : cap - 1;
  memcpy(dst, v->str, n);
  dst[n] = '\0';
}

size_t cnode_parse_list(const redisReply *r, cnode_info *nodes, size_t cap) {
  size_t n = 0;
  if (!r || r->type != REDIS_REPLY_ARRAY)
    return 0;
  for (size_t i = 0; i + 1 < r->elements && n < cap; i += 2) {
    const redisReply *id = r->element[i], *h = r->element[i + 1];
    if (id->type != REDIS_REPLY_STRING || h->type != REDIS_REPLY_ARRAY)
      continue;
    cnode_info *ni = &nodes[n++];
    memset(ni, 0, sizeof *ni);
    copy_str(ni->id, sizeof ni->id, id);
    for (size_t j = 0; j + 1 < h->elements; j += 2) {
      const redisReply *k = h->element[j], *v = h->element[j + 1];
      if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
        continue;
      char num[32];
      copy_str(num, sizeof num, v);
      if (strcmp(k->str, "http_url") == 0)
        copy_str(ni->http_url, sizeof ni->http_url, v);
      else if (strcmp(k->str, "media_addr") == 0)
        copy_str(ni->media_addr, sizeof ni->media_addr, v);
      else if (strcmp(k->str, "region") == 0)
        copy_str(ni->region, sizeof ni->region, v);
      else if (strcmp(k->str, "version") == 0)
        copy_str(ni->version, sizeof ni->version, v);
      else if (strcmp(k->str, "state") == 0)
        ni->draining = strcmp(num, "draining") == 0;
      else if (strcmp(k->str, "load") == 0)
        ni->load = (unsigned)strtoul(num, NULL, 10);
      else if (strcmp(k->str, "rooms") == 0)
        ni->rooms = (unsigned)strtoul(num, NULL, 10);
      else if (strcmp(k->str, "started_ms") == 0)
        ni->started_ms = strtoull(num, NULL, 10);
      else if (strcmp(k->str, "updated_ms") == 0)
        ni->updated_ms = strtoull(num, NULL, 10);
    }
  }
  return n;
}

static cnode_info *find_mut(cnode *n, const char *id) {
  for (size_t i = 0; i < n->n_list; i++)
    if (strcmp(n->list[i].id, id) == 0)
      return &n->list[i];
  return NULL;
}

/* Suspects stay draining here while Redis shows no refresh of theirs since. */
static void apply_suspects(cnode *n) {
  size_t k = 0;
  for (size_t i = 0; i < n->n_suspects; i++) {
    cnode_info *ni = find_mut(n, n->suspects[i].id);
    if (!ni || ni->updated_ms > n->suspects[i].updated_ms)
      continue; /* gone from Redis, or alive after all: forgotten */
    ni->draining = true;
    n->suspects[k++] = n->suspects[i];
  }
  n->n_suspects = k;
}

void cnode_unreachable(cnode *n, const char *id) {
  cnode_info *ni = find_mut(n, id);
  if (!ni || strcmp(id, n->self.id) == 0)
    return;
  ni->draining = true;
  for (size_t i = 0; i < n->n_suspects; i++)
    if (strcmp(n->suspects[i].id, id) == 0) {
      n->suspects[i].updated_ms = ni->updated_ms;
      return;
    }
  if (n->n_suspects == MAX_SUSPECTS)
    return;
  snprintf(n->suspects[n->n_suspects].id, sizeof n->suspects[0].id, "%s", id);
  n->suspects[n->n_suspects++].updated_ms = ni->updated_ms;
}

static void on_list(redisReply *rep, void *ud) {
  cnode *n = ud;
  n->pending--;
  if (n->freeing || !rep || rep->type != REDIS_REPLY_ARRAY)
    return;
  cnode_info *tmp = xcalloc(MAX_NODES, sizeof *tmp);
  size_t k = cnode_parse_list(rep, tmp, MAX_NODES);
  free(n->list);
  n->list = tmp;
  n->n_list = k;
  apply_suspects(n);
}

static void on_announced(redisReply *rep, void *ud) {
  cnode *n = ud;
  (void)rep;
  n->pending--;
}

static void announce(cnode *n, const char *what) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s %s", n->self.id, what);
  const char *argv[] = {"PUBLISH", CNODE_CHANNEL, msg};
  n->pending++;
  credis_command(n->r, on_announced, n, 3, argv, NULL);
}

/* Another node joined or left, or parleyctl drained or served one: this node's state
 * (a drain of its own) and its list are read now. */
static void on_membership(const char *data, size_t len, void *ud) {
  cnode *n = ud;
  (void)data;
  (void)len;
  if (!n->freeing)
    cnode_refresh(n);
}

static void on_registered(redisReply *rep, void *ud) {
  cnode *n = ud;
  n->pending--;
  if (n->freeing || !rep)
    return;
  if (rep->type == REDIS_REPLY_ERROR) {
    log_warn("cluster", "registering node %s: %s", n->self.id, rep->str);
    return;
  }
  bool draining = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
  if (draining != n->self.draining)
    log_info("cluster", "node %s is now %s", n->self.id,
             draining ? "draining" : "serving");
  n->self.draining = draining;
  if (!n->announced) {
    n->announced = true;
    announce(n, "joined");
  }
  const char *argv[] = {"EVAL", CNODE_LIST_LUA, "1", "pl:nodes"};
  n->pending++;
  credis_command(n->r, on_list, n, 4, argv, NULL);
}

void cnode_refresh(cnode *n) {
  char key[96], nodes[] = "pl:nodes", drain[96], ttl[16], load[16], rooms[16],
                started[24], updated[24];
  snprintf(key, sizeof key, "pl:node:%s", n->self.id);
  snprintf(drain, sizeof drain, "pl:drain:%s", n->self.id);
  snprintf(ttl, sizeof ttl, "%d", CNODE_TTL_MS);
  snprintf(load, sizeof load, "%u", n->self.load);
  snprintf(rooms, sizeof rooms, "%u", n->self.rooms);
  snprintf(started, sizeof started, "%llu", (unsigned long long)n->self.started_ms);
  snprintf(updated, sizeof updated, "%llu", (unsigned long long)unix_ms());
  const char *argv[] = {"EVAL",       REGISTER_LUA,
                        "3",          key,
                        nodes,        drain,
                        n->self.id,   ttl,
                        "http_url",   n->self.http_url,
                        "media_addr", n->self.media_addr,
                        "region",     n->self.region,
                        "version",    n->self.version,
                        "load",       load,
                        "rooms",      rooms,
                        "started_ms", started,
                        "updated_ms", updated};
  n->pending++;
  credis_command(n->r, on_registered, n, (int)(sizeof argv / sizeof argv[0]), argv, NULL);
}

static void on_drain_kept(redisReply *rep, void *ud) {
  cnode *n = ud;
  (void)rep;
  n->pending--;
}

void cnode_reconnected(cnode *n) {
  /* A Redis restarted empty forgot pl:drain:<id>: a draining node keeps draining. */
  if (n->self.draining && !n->freeing) {
    char drain[96];
    snprintf(drain, sizeof drain, "pl:drain:%s", n->self.id);
    const char *argv[] = {"SET", drain, "1", "NX"};
    n->pending++;
    credis_command(n->r, on_drain_kept, n, 4, argv, NULL);
  }
  n->announced = false; /* the others learn it is back at once */
  if (!n->freeing)
    cnode_refresh(n);
}

static void on_tick(uv_timer_t *t) { cnode_refresh(t->data); }

cnode *cnode_new(uv_loop_t *loop, credis *r, const cnode_info *self) {
  cnode *n = xcalloc(1, sizeof *n);
  n->loop = loop;
  n->r = r;
  n->self = *self;
  uv_timer_init(loop, &n->timer);
  n->timer.data = n;
  uv_timer_start(&n->timer, on_tick, 0, CNODE_REFRESH_MS);
  credis_subscribe(r, CNODE_CHANNEL, on_membership, n);
  return n;
}

static void on_gone(redisReply *rep, void *ud) {
  cnode *n = ud;
  (void)rep;
  n->pending--;
}

static void free_timer(uv_handle_t *h) {
  cnode *n = h->data;
  free(n->list);
  free(n);
}

void cnode_leave(cnode *n) {
  if (n->freeing)
    return;
  n->freeing = true;
  uv_timer_stop(&n->timer);
  char key[96];
  snprintf(key, sizeof key, "pl:node:%s", n->self.id);
  const char *del[] = {"DEL", key};
  const char *srem[] = {"SREM", "pl:nodes", n->self.id};
  n->pending += 2;
  credis_command(n->r, on_gone, n, 2, del, NULL);
  credis_command(n->r, on_gone, n, 3, srem, NULL);
  announce(n, "left"); /* the others stop placing rooms here now, not in up to 2 s */
}

void cnode_free(cnode *n) {
  if (!n)
    return;
  n->freeing = true;
  uv_timer_stop(&n->timer);
  uv_close((uv_handle_t *)&n->timer, free_timer);
}

void cnode_set_load(cnode *n, unsigned load, unsigned rooms) {
  n->self.load = load;
  n->self.rooms = rooms;
}

void cnode_set_media_addr(cnode *n, const char *media_addr) {
  snprintf(n->self.media_addr, sizeof n->self.media_addr, "%s", media_addr);
}

bool cnode_draining(const cnode *n) { return n->self.draining; }

const cnode_info *cnode_list(const cnode *n, size_t *count) {
  *count = n->n_list;
  return n->list;
}

const cnode_info *cnode_find(const cnode *n, const char *id) {
  for (size_t i = 0; i < n->n_list; i++)
    if (strcmp(n->list[i].id, id) == 0)
      return &n->list[i];
  return NULL;
}

void cnode_add_load(cnode *n, size_t i, unsigned add) {
  if (i < n->n_list)
    n->list[i].load += add;
}

unsigned cnode_pending(const cnode *n) { return n->pending; }
