/* lease — acquire, compare-and-renew and release room leases with Lua scripts, so
 * that each step is atomic in Redis; the epoch (a counter per room that survives the
 * lease) fences a stale home that wakes up after its lease went to another node. */
#include "cluster/lease.h"

#include "core/hmap.h"
#include "core/log.h"
#include "core/mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: pl:room:<k>, pl:epoch:<k>; ARGV: node, px. Returns {1|0, "node epoch"}: the
 * lease stays with a holder, ours included (same epoch); a free room gets a new epoch.
 * A holder whose node key is gone (it has not refreshed for 6 s: dead, or cut off from
 * Redis, where its next renewal finds the new epoch) is taken over at once rather than
 * after the lease's 8 s: that is 2 s sooner back in the room for everyone in it. */
static const char ACQUIRE_LUA[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then\n"
    "  if string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then\n"
    "    redis.call('PEXPIRE', KEYS[1], ARGV[2]); return {1, v}\n"
    "  end\n"
    "  local holder = string.match(v, '^(%S+) ')\n"
    "  if not holder or redis.call('EXISTS', 'pl:node:' .. holder) == 1 then\n"
    "    return {0, v}\n"
    "  end\n"
    "end\n"
    "local e = redis.call('INCR', KEYS[2])\n"
    "v = ARGV[1] .. ' ' .. e\n"
    "redis.call('SET', KEYS[1], v, 'PX', ARGV[2])\n"
    "return {1, v}\n";

/* KEYS as above; ARGV: "node epoch", px, epoch. 1: renewed (or re-set in a Redis that
 * lost it, when no later epoch was handed out); 0: lost. */
static const char RENEW_LUA[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1 end\n"
    "if not v then\n"
    "  local e = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "  if e <= tonumber(ARGV[3]) then\n"
    "    redis.call('SET', KEYS[2], ARGV[3])\n"
    "    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]); return 1\n"
    "  end\n"
    "end\n"
    "return 0\n";

/* KEYS[1]: pl:room:<k>; ARGV[1]: "node epoch". */
static const char RELEASE_LUA[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then return "
                                  "redis.call('DEL', KEYS[1]) end\n"
                                  "return 0\n";

typedef struct {
  char *key;
  uint64_t epoch;
  uint64_t idle_since; /* loop ms; 0 while active */
} lease;

struct lease_table {
  uv_loop_t *loop;
  credis *r;
  char node[64];
  hmap *leases;
  uv_timer_t timer;
  bool (*active)(const char *room_key, void *ud);
  void (*lost)(const char *room_key, void *ud);
  void *ud;
  unsigned pending;
  unsigned long lost_total;
  uint64_t up_since; /* loop ms Redis last came up */
};

typedef struct {
  lease_table *t;
  lease_cb cb;
  void *ud;
  uint64_t epoch; /* renewals: the epoch renewed */
  char key[];
} op;

static op *op_new(lease_table *t, const char *key, lease_cb cb, void *ud) {
  size_t n = strlen(key);
  op *o = xmalloc(sizeof *o + n + 1);
  o->t = t;
  o->cb = cb;
  o->ud = ud;
  o->epoch = 0;
  memcpy(o->key, key, n + 1);
  t->pending++;
  return o;
}

int lease_parse_holder(const char *v, char *node, size_t cap, uint64_t *epoch) {
  const char *sp = strrchr(v, ' ');
  if (!sp || sp == v || (size_t)(sp - v) >= cap || !sp[1])
    return -1;
  char *end;
  unsigned long long e = strtoull(sp + 1, &end, 10);
  if (*end)
    return -1;
  memcpy(node, v, (size_t)(sp - v));
  node[sp - v] = '\0';
  *epoch = e;
  return 0;
}

static void holder_of(const lease_table *t, const lease *l, char *out, size_t cap) {
  snprintf(out, cap, "%s %" PRIu64, t->node, l->epoch);
}

static void keys_of(const char *room, char *room_key, char *epoch_key, size_t cap) {
  snprintf(room_key, cap, "pl:room:%s", room);
  snprintf(epoch_key, cap, "pl:epoch:%s", room);
}

static void on_acquired(redisReply *rep, void *ud) {
  op *o = ud;
  lease_table *t = o->t;
  t->pending--;
  if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
      rep->element[1]->type != REDIS_REPLY_STRING) {
    if (rep && rep->type == REDIS_REPLY_ERROR)
      log_warn("cluster", "lease %s: %s", o->key, rep->str);
    o->cb(false, NULL, 0, o->ud);
    free(o);
    return;
  }
  const char *v = rep->element[1]->str;
  char node[64];
  uint64_t epoch = 0;
  bool ok = rep->element[0]->type == REDIS_REPLY_INTEGER &&
            rep->element[0]->integer == 1 &&
            lease_parse_holder(v, node, sizeof node, &epoch) == 0;
  if (ok) {
    lease *l = hmap_get(t->leases, o->key, strlen(o->key));
    if (!l) {
      l = xcalloc(1, sizeof *l);
      l->key = xstrdup(o->key);
      l->idle_since = uv_now(t->loop);
      if (!l->idle_since)
        l->idle_since = 1;
      hmap_put(t->leases, l->key, strlen(l->key), l);
      log_info("cluster", "room %s homed here, epoch %" PRIu64, o->key, epoch);
    }
    l->epoch = epoch;
  }
  o->cb(ok, ok ? NULL : v, epoch, o->ud);
  free(o);
}

void lease_acquire(lease_table *t, const char *room_key, lease_cb cb, void *ud) {
  char rk[512], ek[512], px[16];
  keys_of(room_key, rk, ek, sizeof rk);
  snprintf(px, sizeof px, "%d", LEASE_TTL_MS);
  const char *argv[] = {"EVAL", ACQUIRE_LUA, "2", rk, ek, t->node, px};
  credis_command(t->r, on_acquired, op_new(t, room_key, cb, ud), 7, argv, NULL);
}

static void drop_lease(lease_table *t, const char *key) {
  lease *l = hmap_remove(t->leases, key, strlen(key));
  if (l) {
    free(l->key);
    free(l);
  }
}

static void lose(lease_table *t, const char *key, uint64_t epoch) {
  t->lost_total++;
  log_warn("cluster", "room %s: lease (epoch %" PRIu64 ") lost to another node", key,
           epoch);
  drop_lease(t, key);
  if (t->lost)
    t->lost(key, t->ud);
}

static void on_renewed(redisReply *rep, void *ud) {
  op *o = ud;
  lease_table *t = o->t;
  t->pending--;
  lease *l = hmap_get(t->leases, o->key, strlen(o->key));
  if (rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0 && l &&
      l->epoch == o->epoch)
    lose(t, o->key, o->epoch);
  free(o);
}

/* The acquisition of a provisional lease, once Redis is up. */
static void on_provisional(redisReply *rep, void *ud) {
  op *o = ud;
  lease_table *t = o->t;
  t->pending--;
  lease *l = hmap_get(t->leases, o->key, strlen(o->key));
  if (l && l->epoch == 0 && rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
      rep->element[0]->type == REDIS_REPLY_INTEGER &&
      rep->element[1]->type == REDIS_REPLY_STRING) {
    char node[64];
    uint64_t epoch = 0;
    if (rep->element[0]->integer == 1 &&
        lease_parse_holder(rep->element[1]->str, node, sizeof node, &epoch) == 0) {
      l->epoch = epoch;
      log_info("cluster",
               "room %s (served while Redis was down) homed here, epoch %" PRIu64, o->key,
               epoch);
    } else if (rep->element[0]->integer == 0) {
      lose(t, o->key, 0);
    }
  }
  free(o);
}

static void renew(lease_table *t, lease *l) {
  if (l->epoch == 0) { /* provisional: acquire it, once the former holders are back */
    if (uv_now(t->loop) - t->up_since < LEASE_PROVISIONAL_WAIT_MS)
      return;
    char rk[512], ek[512], px[16];
    keys_of(l->key, rk, ek, sizeof rk);
    snprintf(px, sizeof px, "%d", LEASE_TTL_MS);
    const char *argv[] = {"EVAL", ACQUIRE_LUA, "2", rk, ek, t->node, px};
    credis_command(t->r, on_provisional, op_new(t, l->key, NULL, NULL), 7, argv, NULL);
    return;
  }
  char rk[512], ek[512], px[16], holder[128], epoch[24];
  keys_of(l->key, rk, ek, sizeof rk);
  snprintf(px, sizeof px, "%d", LEASE_TTL_MS);
  holder_of(t, l, holder, sizeof holder);
  snprintf(epoch, sizeof epoch, "%" PRIu64, l->epoch);
  const char *argv[] = {"EVAL", RENEW_LUA, "2", rk, ek, holder, px, epoch};
  op *o = op_new(t, l->key, NULL, NULL);
  o->epoch = l->epoch;
  credis_command(t->r, on_renewed, o, 8, argv, NULL);
}

static void on_released(redisReply *rep, void *ud) {
  op *o = ud;
  (void)rep;
  o->t->pending--;
  free(o);
}

static void release(lease_table *t, lease *l) {
  char rk[512], ek[512], holder[128];
  keys_of(l->key, rk, ek, sizeof rk);
  holder_of(t, l, holder, sizeof holder);
  const char *argv[] = {"EVAL", RELEASE_LUA, "1", rk, holder};
  credis_command(t->r, on_released, op_new(t, l->key, NULL, NULL), 5, argv, NULL);
}

static bool idle_long(void *value, void *ud) {
  lease_table *t = ud;
  lease *l = value;
  uint64_t now = uv_now(t->loop);
  if (t->active && t->active(l->key, t->ud)) {
    l->idle_since = 0;
    return false;
  }
  if (!l->idle_since) {
    l->idle_since = now ? now : 1;
    return false;
  }
  return now - l->idle_since >= LEASE_IDLE_MS;
}

static void drop_released(void *value, void *ud) {
  lease_table *t = ud;
  lease *l = value;
  log_info("cluster", "room %s: inactive, lease released", l->key);
  release(t, l);
  free(l->key);
  free(l);
}

static void on_tick(uv_timer_t *timer) {
  lease_table *t = timer->data;
  hmap_remove_if(t->leases, idle_long, drop_released, t);
  lease_reassert(t);
}

void lease_redis_up(lease_table *t) { t->up_since = uv_now(t->loop); }

void lease_reassert(lease_table *t) {
  if (!credis_up(t->r))
    return; /* Redis down: nobody can take a room; renewed when it is back */
  size_t pos = 0;
  lease *l;
  while ((l = hmap_next(t->leases, &pos)))
    renew(t, l);
}

lease_table *lease_new(uv_loop_t *loop, credis *r, const char *node_id) {
  lease_table *t = xcalloc(1, sizeof *t);
  t->loop = loop;
  t->r = r;
  snprintf(t->node, sizeof t->node, "%s", node_id);
  t->leases = hmap_new();
  uv_timer_init(loop, &t->timer);
  t->timer.data = t;
  uv_timer_start(&t->timer, on_tick, LEASE_RENEW_MS, LEASE_RENEW_MS);
  return t;
}

void lease_set_rooms(lease_table *t, bool (*active)(const char *room_key, void *ud),
                     void (*lost)(const char *room_key, void *ud), void *ud) {
  t->active = active;
  t->lost = lost;
  t->ud = ud;
}

void lease_provisional(lease_table *t, const char *room_key) {
  if (hmap_get(t->leases, room_key, strlen(room_key)))
    return;
  lease *l = xcalloc(1, sizeof *l);
  l->key = xstrdup(room_key);
  l->idle_since = uv_now(t->loop) ? uv_now(t->loop) : 1;
  hmap_put(t->leases, l->key, strlen(l->key), l);
  log_info("cluster",
           "room %s served here while Redis cannot be reached (never reached "
           "since start); its lease is taken when Redis is back",
           room_key);
}

bool lease_held(const lease_table *t, const char *room_key, uint64_t *epoch) {
  lease *l = hmap_get(t->leases, room_key, strlen(room_key));
  if (l && epoch)
    *epoch = l->epoch;
  return l != NULL;
}

static bool all(void *value, void *ud) {
  (void)value;
  (void)ud;
  return true;
}

static void drop_quiet(void *value, void *ud) {
  lease_table *t = ud;
  lease *l = value;
  if (t)
    release(t, l);
  free(l->key);
  free(l);
}

void lease_release_all(lease_table *t) {
  uv_timer_stop(&t->timer);
  hmap_remove_if(t->leases, all, drop_quiet, t);
}

unsigned lease_count(const lease_table *t) { return (unsigned)hmap_count(t->leases); }

unsigned long lease_lost_total(const lease_table *t) { return t->lost_total; }

unsigned lease_pending(const lease_table *t) { return t->pending; }

const char *lease_next(const lease_table *t, size_t *pos, uint64_t *epoch) {
  lease *l = hmap_next(t->leases, pos);
  if (!l)
    return NULL;
  *epoch = l->epoch;
  return l->key;
}

static void free_table(uv_handle_t *h) {
  lease_table *t = h->data;
  hmap_remove_if(t->leases, all, drop_quiet, NULL);
  hmap_free(t->leases);
  free(t);
}

void lease_free(lease_table *t) {
  if (!t)
    return;
  uv_timer_stop(&t->timer);
  uv_close((uv_handle_t *)&t->timer, free_table);
}
