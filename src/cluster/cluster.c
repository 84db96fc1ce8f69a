/* cluster — ties redis, node and lease together: placement of new rooms, the answer
 * to "where is this room served", a cache of last known homes for when Redis is down,
 * and the metrics. */
#include "cluster/cluster.h"

#include "cluster/lease.h"
#include "cluster/node.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/version.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

typedef struct {
  char *key;
  char node_id[64];
  char http_url[256];
  uint64_t epoch;
} known_home;

#define ADHOC_MAX_ALIASES 16
#define ADHOC_PX "8000"

typedef struct {
  char *key; /* the room key */
  char *name;
  char *aliases[ADHOC_MAX_ALIASES];
  size_t n_aliases;
} adhoc_room;

struct cluster_key_call {
  bool canceled;
  cluster_key_cb cb;
  void *ud;
};

struct cluster {
  uv_loop_t *loop;
  credis *r;
  cnode *node;
  lease_table *leases;
  hmap *homes; /* room_key -> known_home: the last location seen in Redis */
  hmap *adhoc; /* room_key -> adhoc_room: ad-hoc rooms homed here, for their names */
  unsigned ticks;
  char node_id[64];
  char region[64];
  uint8_t secret[1024];
  size_t secret_len;
  uv_timer_t load_timer;
  bool (*active)(const char *room_key, void *ud);
  unsigned (*participants)(void *ud);
  void (*lease_lost)(const char *room_key, void *ud);
  void *ud;
  unsigned rnd;
  bool ever_up; /* Redis reached since start (else: serve what the store has,
                   provisionally) */
  unsigned long placed_here, placed_there, unavailable;
};

struct cluster_locate_call {
  cluster *c;
  bool canceled;
  bool join, relayed;
  bool acquiring; /* lease_acquire sent once: a refusal does not loop */
  char holder[64];
  uint64_t holder_epoch;
  void (*cb)(const cluster_location *, void *);
  void *ud;
  char regions[CLUSTER_MAX_REGIONS][64]; /* where a new room goes; none: ours */
  size_t n_regions;
  cluster_place_hook before_place; /* run once, before placing an unplaced room */
  bool hooked;                     /* before_place ran */
  bool awaiting;                   /* its cluster_locate_place not called yet */
  char key[];
};

static uint64_t unix_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static void on_redis_up(void *ud) {
  cluster *c = ud;
  c->ever_up = true;
  cnode_reconnected(c->node);
  lease_redis_up(c->leases);
  lease_reassert(c->leases);
}

static void update_load(cluster *c) {
  unsigned load = c->participants ? c->participants(c->ud) : 0;
  cnode_set_load(c->node, load, lease_count(c->leases));
}

static void adhoc_refresh(cluster *c);

static void on_load_tick(uv_timer_t *t) {
  cluster *c = t->data;
  update_load(c);
  if (++c->ticks % 2 == 0)
    adhoc_refresh(c);
}

cluster *cluster_new(uv_loop_t *loop, const config *cfg, store *st, char *err, size_t n) {
  (void)st;
  uint8_t secret[1024];
  char why[600];
  int len = config_read_secret(cfg->cluster_secret_file, secret, sizeof secret, 32, why,
                               sizeof why);
  if (len < 0) {
    snprintf(err, n, "--cluster-secret-file: %s", why);
    return NULL;
  }
  char rerr[300];
  credis *r = credis_new(loop, cfg->cluster_url, rerr, sizeof rerr);
  if (!r) {
    snprintf(err, n, "--cluster: %s", rerr);
    return NULL;
  }
  cluster *c = xcalloc(1, sizeof *c);
  c->loop = loop;
  c->r = r;
  memcpy(c->secret, secret, (size_t)len);
  c->secret_len = (size_t)len;
  snprintf(c->node_id, sizeof c->node_id, "%s", cfg->node_id);
  snprintf(c->region, sizeof c->region, "%s", cfg->region);
  c->rnd = (unsigned)unix_ms() ^ (unsigned)(uintptr_t)c;
  c->homes = hmap_new();
  c->adhoc = hmap_new();
  cnode_info self = {0};
  snprintf(self.id, sizeof self.id, "%s", cfg->node_id);
  snprintf(self.region, sizeof self.region, "%s", cfg->region);
  if (cfg->node_url[0])
    snprintf(self.http_url, sizeof self.http_url, "%s", cfg->node_url);
  else
    snprintf(self.http_url, sizeof self.http_url, "%s://%s:%d",
             cfg->tls_cert[0] ? "https" : "http", cfg->http_host, cfg->http_port);
  snprintf(self.version, sizeof self.version, "%s", parley_version());
  self.started_ms = unix_ms();
  c->node = cnode_new(loop, r, &self);
  c->leases = lease_new(loop, r, cfg->node_id);
  credis_on_up(r, on_redis_up, c);
  uv_timer_init(loop, &c->load_timer);
  c->load_timer.data = c;
  uv_timer_start(&c->load_timer, on_load_tick, 1000, 1000);
  log_info("cluster", "node %s (region %s, %s) joining the cluster at %s", self.id,
           self.region, self.http_url, cfg->cluster_url[0] ? "redis" : "");
  return c;
}

void cluster_set_media_addr(cluster *c, const char *media_addr) {
  cnode_set_media_addr(c->node, media_addr);
}

static bool all_homes(void *v, void *ud) {
  (void)v;
  (void)ud;
  return true;
}
static void free_home(void *v, void *ud) {
  (void)ud;
  known_home *h = v;
  free(h->key);
  free(h);
}

static void free_adhoc(void *v, void *ud) {
  (void)ud;
  adhoc_room *a = v;
  for (size_t i = 0; i < a->n_aliases; i++)
    free(a->aliases[i]);
  free(a->name);
  free(a->key);
  free(a);
}

static void on_guard(uv_timer_t *t) { (void)t; }

static void free_cluster(uv_handle_t *h) { free(h->data); }

void cluster_free(cluster *c) {
  if (!c)
    return;
  uv_timer_stop(&c->load_timer);
  lease_release_all(c->leases);
  cnode_leave(c->node);
  /* Wait (at most 1 s) for Redis to confirm: the others then see this node go now,
   * not when its key expires. */
  uv_timer_t guard;
  uv_timer_init(c->loop, &guard);
  uv_timer_start(&guard, on_guard, 50, 50);
  uint64_t until = uv_now(c->loop) + 1000;
  while ((lease_pending(c->leases) || cnode_pending(c->node)) && uv_now(c->loop) < until)
    uv_run(c->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&guard, NULL);
  credis_free(c->r); /* whatever is still pending is answered NULL here */
  cnode_free(c->node);
  lease_free(c->leases);
  hmap_remove_if(c->homes, all_homes, free_home, NULL);
  hmap_free(c->homes);
  hmap_remove_if(c->adhoc, all_homes, free_adhoc, NULL);
  hmap_free(c->adhoc);
  uv_close((uv_handle_t *)&c->load_timer, free_cluster);
  uv_run(c->loop, UV_RUN_NOWAIT);
}

void cluster_set_rooms(cluster *c, bool (*active)(const char *room_key, void *ud),
                       unsigned (*participants)(void *ud),
                       void (*lease_lost)(const char *room_key, void *ud), void *ud) {
  c->active = active;
  c->participants = participants;
  c->lease_lost = lease_lost;
  c->ud = ud;
  lease_set_rooms(c->leases, active, lease_lost, ud);
}

bool cluster_draining(const cluster *c) { return cnode_draining(c->node); }

void cluster_node_unreachable(cluster *c, const char *node_id) {
  cnode_unreachable(c->node, node_id);
}

const char *cluster_node_id(const cluster *c) { return c->node_id; }

const uint8_t *cluster_secret(const cluster *c, size_t *len) {
  *len = c->secret_len;
  return c->secret;
}

credis *cluster_redis(cluster *c) { return c->r; }

/* --- locate --- */

static void remember(cluster *c, const char *key, const char *node_id, const char *url,
                     uint64_t epoch) {
  known_home *h = hmap_get(c->homes, key, strlen(key));
  if (!h) {
    h = xcalloc(1, sizeof *h);
    h->key = xstrdup(key);
    hmap_put(c->homes, h->key, strlen(h->key), h);
  }
  snprintf(h->node_id, sizeof h->node_id, "%s", node_id);
  snprintf(h->http_url, sizeof h->http_url, "%s", url);
  h->epoch = epoch;
}

static void forget(cluster *c, const char *key) {
  known_home *h = hmap_remove(c->homes, key, strlen(key));
  if (h)
    free_home(h, NULL);
}

static void answer(cluster_locate_call *call, cluster_where where, const char *node_id,
                   const char *url, uint64_t epoch, const char *reason) {
  cluster *c = call->c;
  cluster_location loc = {.where = where, .epoch = epoch};
  snprintf(loc.node_id, sizeof loc.node_id, "%s", node_id ? node_id : "");
  snprintf(loc.http_url, sizeof loc.http_url, "%s", url ? url : "");
  snprintf(loc.reason, sizeof loc.reason, "%s", reason ? reason : "");
  if (where == CLUSTER_HERE)
    c->placed_here++;
  else if (where == CLUSTER_THERE)
    c->placed_there++;
  else
    c->unavailable++;
  if (!call->canceled)
    call->cb(&loc, call->ud);
  free(call);
}

/* Redis down, or it did not answer. */
static void answer_offline(cluster_locate_call *call) {
  cluster *c = call->c;
  known_home *h = hmap_get(c->homes, call->key, strlen(call->key));
  if (h && !call->relayed && strcmp(h->node_id, c->node_id) != 0)
    answer(call, CLUSTER_THERE, h->node_id, h->http_url, h->epoch, NULL);
  else
    answer(call, CLUSTER_UNAVAILABLE, NULL, NULL, 0, CLUSTER_REASON_REDIS_DOWN);
}

static void on_acquired(bool ok, const char *holder, uint64_t epoch, void *ud);

static void acquire(cluster_locate_call *call) {
  call->acquiring = true;
  lease_acquire(call->c->leases, call->key, on_acquired, call);
}

/* The start of every Redis answer to a locate: a cancelled call just goes; no answer
 * (Redis down, or an error) falls back to what this node knows. */
static bool reply_usable(cluster_locate_call *call, const redisReply *rep) {
  if (call->canceled) {
    free(call);
    return false;
  }
  if (!rep || rep->type == REDIS_REPLY_ERROR) {
    answer_offline(call);
    return false;
  }
  return true;
}

static void on_holder_url(redisReply *rep, void *ud) {
  cluster_locate_call *call = ud;
  cluster *c = call->c;
  if (!reply_usable(call, rep))
    return;
  if (rep->type == REDIS_REPLY_STRING && rep->len > 0 && rep->len < 256) {
    remember(c, call->key, call->holder, rep->str, call->holder_epoch);
    answer(call, CLUSTER_THERE, call->holder, rep->str, call->holder_epoch, NULL);
    return;
  }
  /* Its node key is gone (dead, or cut off from Redis): a join takes the room over. */
  if (call->join && !call->acquiring && !cnode_draining(c->node))
    acquire(call);
  else
    answer(call, CLUSTER_UNAVAILABLE, NULL, NULL, 0, CLUSTER_REASON_HOME_GONE);
}

/* The room's holder is not in this node's list, which is re-read every 2 s: a node that
 * registered since then (just started, or back after Redis restarted) is missing from
 * it. Its URL is asked from Redis rather than answering 503 "moving" for up to 2 s. */
static void lookup_holder(cluster_locate_call *call, const char *node, uint64_t epoch) {
  snprintf(call->holder, sizeof call->holder, "%s", node);
  call->holder_epoch = epoch;
  char key[96];
  snprintf(key, sizeof key, "pl:node:%s", node);
  const char *argv[] = {"HGET", key, "http_url"};
  credis_command(call->c->r, on_holder_url, call, 3, argv, NULL);
}

static void on_acquired(bool ok, const char *holder, uint64_t epoch, void *ud) {
  cluster_locate_call *call = ud;
  cluster *c = call->c;
  if (ok) {
    forget(c, call->key);
    update_load(c);
    answer(call, CLUSTER_HERE, c->node_id, NULL, epoch, NULL);
    return;
  }
  if (!holder) {
    answer_offline(call);
    return;
  }
  /* Another node won the room meanwhile. */
  char node[64] = "";
  uint64_t e = 0;
  const cnode_info *ni = NULL;
  if (lease_parse_holder(holder, node, sizeof node, &e) == 0)
    ni = cnode_find(c->node, node);
  if (ni && !call->relayed) {
    remember(c, call->key, ni->id, ni->http_url, e);
    answer(call, CLUSTER_THERE, ni->id, ni->http_url, e, NULL);
  } else if (!ni && !call->relayed && node[0]) {
    lookup_holder(call, node, e);
  } else {
    answer(call, CLUSTER_UNAVAILABLE, NULL, NULL, 0, CLUSTER_REASON_HOME_GONE);
  }
}

static void place(cluster_locate_call *call) {
  cluster *c = call->c;
  if (call->relayed) { /* the relaying node chose this one */
    if (cnode_draining(c->node)) {
      answer(call, CLUSTER_UNAVAILABLE, NULL, NULL, 0, CLUSTER_REASON_NO_NODE);
      return;
    }
    acquire(call);
    return;
  }
  if (call->before_place && !call->hooked) {
    /* Only now, for a room nobody holds, is the caller's question worth asking. */
    call->hooked = true;
    call->awaiting = true;
    call->before_place(call, call->ud);
    return;
  }
  size_t n;
  const cnode_info *nodes = cnode_list(c->node, &n);
  c->rnd = c->rnd * 1103515245u + 12345u;
  const char *regions[CLUSTER_MAX_REGIONS] = {c->region};
  size_t n_regions = 1;
  if (call->n_regions) {
    n_regions = call->n_regions;
    for (size_t r = 0; r < n_regions; r++)
      regions[r] = call->regions[r];
  }
  int i = cnode_pick_in(nodes, n, regions, n_regions, c->rnd >> 8);
  bool self = i >= 0 ? strcmp(nodes[i].id, c->node_id) == 0
                     : n == 0 && !cnode_draining(c->node); /* list not read yet */
  /* Count the joiner on the chosen node until the next read of the list: the loads there
   * are up to a few seconds old, and without this every placement in between would go to
   * the same "least-loaded" node (12 rooms joined in 50 ms all went to one of three). */
  if (i >= 0)
    cnode_add_load(c->node, (size_t)i, 1);
  if (self) {
    acquire(call);
    return;
  }
  if (i < 0) {
    answer(call, CLUSTER_UNAVAILABLE, NULL, NULL, 0, CLUSTER_REASON_NO_NODE);
    return;
  }
  answer(call, CLUSTER_THERE, nodes[i].id, nodes[i].http_url, 0, NULL);
}

static void on_room(redisReply *rep, void *ud) {
  cluster_locate_call *call = ud;
  cluster *c = call->c;
  if (!reply_usable(call, rep))
    return;
  char node[64];
  uint64_t epoch = 0;
  if (rep->type != REDIS_REPLY_STRING ||
      lease_parse_holder(rep->str, node, sizeof node, &epoch) != 0) {
    forget(c, call->key);
    if (call->join)
      place(call);
    else /* no home: today's answers (unknown token, ...) are given here */
      answer(call, CLUSTER_HERE, c->node_id, NULL, 0, NULL);
    return;
  }
  if (strcmp(node, c->node_id) == 0) {
    /* Homed here in Redis but not in this process (it restarted): take it back. */
    if (call->join)
      acquire(call);
    else
      answer(call, CLUSTER_HERE, c->node_id, NULL, epoch, NULL);
    return;
  }
  const cnode_info *ni = cnode_find(c->node, node);
  if (!ni && !call->relayed) {
    lookup_holder(call, node, epoch);
    return;
  }
  if (call->relayed) {
    /* A relayed request for a room another node holds. A join tries to take the room
     * over (the script does only when the holder's node key has lapsed); anything else
     * waits for the rejoin. */
    if (call->join && !cnode_draining(c->node))
      acquire(call);
    else
      answer(call, CLUSTER_UNAVAILABLE, NULL, NULL, 0, CLUSTER_REASON_HOME_GONE);
    return;
  }
  remember(c, call->key, ni->id, ni->http_url, epoch);
  answer(call, CLUSTER_THERE, ni->id, ni->http_url, epoch, NULL);
}

static cluster_locate_call *new_call(cluster *c, const char *room_key, bool join,
                                     bool relayed,
                                     void (*cb)(const cluster_location *, void *),
                                     void *ud) {
  size_t klen = strlen(room_key);
  cluster_locate_call *call = xcalloc(1, sizeof *call + klen + 1);
  call->c = c;
  call->join = join;
  call->relayed = relayed;
  call->cb = cb;
  call->ud = ud;
  memcpy(call->key, room_key, klen + 1);
  return call;
}

/* Answers at once (NULL returned) or asks Redis (the call returned). */
static cluster_locate_call *start(cluster_locate_call *call) {
  cluster *c = call->c;
  const char *room_key = call->key;
  bool join = call->join, relayed = call->relayed;
  uint64_t epoch;
  if (lease_held(c->leases, room_key, &epoch)) {
    answer(call, CLUSTER_HERE, c->node_id, NULL, epoch, NULL);
    return NULL;
  }
  if (!credis_up(c->r)) {
    if (!c->ever_up && !relayed) {
      /* Started while Redis is down: this node knows nothing of the others and nobody
       * can place anything, so it serves the rooms its store has, here (a join on a
       * provisional lease, reconciled when Redis is back). */
      if (join)
        lease_provisional(c->leases, room_key);
      answer(call, CLUSTER_HERE, c->node_id, NULL, 0, NULL);
    } else {
      answer_offline(call);
    }
    return NULL;
  }
  char key[600];
  snprintf(key, sizeof key, "pl:room:%s", room_key);
  const char *argv[] = {"GET", key};
  credis_command(c->r, on_room, call, 2, argv, NULL);
  return call;
}

cluster_locate_call *cluster_locate(cluster *c, const char *room_key, bool join,
                                    bool relayed,
                                    void (*cb)(const cluster_location *, void *),
                                    void *ud) {
  return start(new_call(c, room_key, join, relayed, cb, ud));
}

cluster_locate_call *cluster_locate_in(cluster *c, const char *room_key,
                                       const char *const *regions, size_t n,
                                       void (*cb)(const cluster_location *, void *),
                                       void *ud) {
  cluster_locate_call *call = new_call(c, room_key, true, false, cb, ud);
  for (size_t r = 0; r < n && call->n_regions < CLUSTER_MAX_REGIONS; r++)
    if (regions[r] && regions[r][0])
      snprintf(call->regions[call->n_regions++], sizeof call->regions[0], "%s",
               regions[r]);
  return start(call);
}

cluster_locate_call *cluster_locate_join(cluster *c, const char *room_key,
                                         cluster_place_hook before_place,
                                         void (*cb)(const cluster_location *, void *),
                                         void *ud) {
  cluster_locate_call *call = new_call(c, room_key, true, false, cb, ud);
  call->before_place = before_place;
  return start(call);
}

void cluster_locate_place(cluster_locate_call *call, const char *const *regions,
                          size_t n) {
  call->awaiting = false;
  call->n_regions = 0;
  for (size_t r = 0; r < n && call->n_regions < CLUSTER_MAX_REGIONS; r++)
    if (regions[r] && regions[r][0])
      snprintf(call->regions[call->n_regions++], sizeof call->regions[0], "%s",
               regions[r]);
  start(call); /* placed meanwhile by another node: that one is answered */
}

void cluster_locate_cancel(cluster_locate_call *call) {
  if (!call)
    return;
  if (call->awaiting) /* nothing of ours is pending: it goes now */
    free(call);
  else
    call->canceled = true;
}

void cluster_metrics(const cluster *c, buf *b) {
  size_t n, serving = 0;
  const cnode_info *list = cnode_list(c->node, &n);
  for (size_t i = 0; i < n; i++)
    serving += !list[i].draining;
  buf_appendf(
      b,
      "# HELP parley_cluster_redis_up 1 while the Redis command connection is ready.\n"
      "# TYPE parley_cluster_redis_up gauge\nparley_cluster_redis_up %d\n"
      "# HELP parley_cluster_nodes Live nodes seen at the last refresh.\n"
      "# TYPE parley_cluster_nodes gauge\nparley_cluster_nodes %zu\n"
      "# HELP parley_cluster_nodes_serving Live nodes taking new rooms at the last "
      "refresh.\n"
      "# TYPE parley_cluster_nodes_serving gauge\nparley_cluster_nodes_serving %zu\n"
      "# HELP parley_cluster_rooms_homed Rooms whose lease this node holds.\n"
      "# TYPE parley_cluster_rooms_homed gauge\nparley_cluster_rooms_homed %u\n"
      "# HELP parley_cluster_draining 1 while this node is draining.\n"
      "# TYPE parley_cluster_draining gauge\nparley_cluster_draining %d\n"
      "# HELP parley_cluster_lease_lost_total Leases found held by another node.\n"
      "# TYPE parley_cluster_lease_lost_total counter\n"
      "parley_cluster_lease_lost_total %lu\n"
      "# HELP parley_cluster_redis_reconnects_total Redis reconnections.\n"
      "# TYPE parley_cluster_redis_reconnects_total counter\n"
      "parley_cluster_redis_reconnects_total %lu\n"
      "# HELP parley_cluster_redis_commands_total Redis commands sent.\n"
      "# TYPE parley_cluster_redis_commands_total counter\n"
      "parley_cluster_redis_commands_total %lu\n"
      "# HELP parley_cluster_redis_failed_total Redis commands failed or refused.\n"
      "# TYPE parley_cluster_redis_failed_total counter\n"
      "parley_cluster_redis_failed_total %lu\n"
      "# HELP parley_cluster_locate_total Room locations answered, by answer.\n"
      "# TYPE parley_cluster_locate_total counter\n"
      "parley_cluster_locate_total{where=\"here\"} %lu\n"
      "parley_cluster_locate_total{where=\"there\"} %lu\n"
      "parley_cluster_locate_total{where=\"unavailable\"} %lu\n",
      credis_up(c->r) ? 1 : 0, n, serving, lease_count(c->leases),
      cnode_draining(c->node) ? 1 : 0, lease_lost_total(c->leases),
      credis_reconnects(c->r), credis_commands_total(c->r), credis_failed_total(c->r),
      c->placed_here, c->placed_there, c->unavailable);
}

/* --- ad-hoc rooms' names and aliases --- */

static void on_key_reply(redisReply *rep, void *ud) {
  cluster_key_call *call = ud;
  if (!call->canceled) {
    bool ok = rep && rep->type == REDIS_REPLY_STRING && rep->len > 0 && rep->len < 600;
    call->cb(ok ? rep->str : NULL, call->ud);
  }
  free(call);
}

static cluster_key_call *key_call(cluster_key_cb cb, void *ud) {
  cluster_key_call *call = xcalloc(1, sizeof *call);
  call->cb = cb;
  call->ud = ud;
  return call;
}

cluster_key_call *cluster_adhoc_find(cluster *c, const char *alias, cluster_key_cb cb,
                                     void *ud) {
  cluster_key_call *call = key_call(cb, ud);
  const char *argv[] = {"GET", NULL};
  char key[600];
  snprintf(key, sizeof key, "pl:alias:%s", alias);
  argv[1] = key;
  credis_command(c->r, on_key_reply, call, 2, argv, NULL);
  return call;
}

/* The name's room key if one is set, else ARGV[1] (set now). */
static const char CLAIM_LUA[] =
    "local v = redis.call('GET', KEYS[1]) if v then return v end "
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return ARGV[1]";

cluster_key_call *cluster_adhoc_claim(cluster *c, const char *name, const char *room_key,
                                      cluster_key_cb cb, void *ud) {
  cluster_key_call *call = key_call(cb, ud);
  char key[600];
  snprintf(key, sizeof key, "pl:adhoc:%s", name);
  const char *argv[] = {"EVAL", CLAIM_LUA, "1", key, room_key, ADHOC_PX};
  credis_command(c->r, on_key_reply, call, 6, argv, NULL);
  return call;
}

void cluster_key_call_cancel(cluster_key_call *call) {
  if (call)
    call->canceled = true;
}

static void on_written(redisReply *rep, void *ud) {
  (void)rep;
  (void)ud;
}

static void set_px(cluster *c, const char *prefix, const char *what, const char *value) {
  char key[600];
  snprintf(key, sizeof key, "%s%s", prefix, what);
  const char *argv[] = {"SET", key, value, "PX", ADHOC_PX};
  credis_command(c->r, on_written, NULL, 5, argv, NULL);
}

static void adhoc_write(cluster *c, const adhoc_room *a) {
  set_px(c, "pl:adhoc:", a->name, a->key);
  for (size_t i = 0; i < a->n_aliases; i++)
    set_px(c, "pl:alias:", a->aliases[i], a->key);
}

void cluster_adhoc_note(cluster *c, const char *room_key, const char *name,
                        const char *alias) {
  adhoc_room *a = hmap_get(c->adhoc, room_key, strlen(room_key));
  if (!a) {
    a = xcalloc(1, sizeof *a);
    a->key = xstrdup(room_key);
    a->name = xstrdup(name);
    hmap_put(c->adhoc, a->key, strlen(a->key), a);
  }
  size_t i = 0;
  while (i < a->n_aliases && strcmp(a->aliases[i], alias) != 0)
    i++;
  if (i == a->n_aliases && i < ADHOC_MAX_ALIASES)
    a->aliases[a->n_aliases++] = xstrdup(alias);
  adhoc_write(c, a);
}

/* Every 2 s: the names and aliases of the ad-hoc rooms still homed here are written
 * again; those of rooms whose lease went are dropped (their keys lapse in 8 s). */
static bool adhoc_gone(void *v, void *ud) {
  cluster *c = ud;
  adhoc_room *a = v;
  uint64_t epoch;
  if (!lease_held(c->leases, a->key, &epoch))
    return true;
  if (credis_up(c->r))
    adhoc_write(c, a);
  return false;
}

static void adhoc_refresh(cluster *c) {
  hmap_remove_if(c->adhoc, adhoc_gone, free_adhoc, c);
}
