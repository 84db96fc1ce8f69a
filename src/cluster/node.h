/* node — cluster membership: this node's pl:node:<id> hash (PEXPIRE 6000, rewritten
 * every 2000 ms), the pl:nodes set, the pl:drain:<id> flag, and the list of live
 * nodes read back on every refresh. */
#ifndef PARLEY_CLUSTER_NODE_H
#define PARLEY_CLUSTER_NODE_H

#include "cluster/redis.h"

#include <stdbool.h>
#include <stdint.h>

#define CNODE_TTL_MS 6000
#define CNODE_REFRESH_MS 2000
/* Channel on which a change of membership is announced ("<id> joined|left|drain|serve",
 * by the nodes and by parleyctl node drain/serve): every node re-reads the list at once
 * rather than at its next 2 s refresh. */
#define CNODE_CHANNEL "pl:membership"

typedef struct {
  char id[64];
  char http_url[256];
  char media_addr[128];
  char region[64];
  bool draining;
  unsigned load;  /* participants */
  unsigned rooms; /* homed rooms */
  char version[32];
  uint64_t started_ms, updated_ms; /* unix ms, the node's clock */
} cnode_info;

typedef struct cnode cnode;

/* Registers self (id, http_url, media_addr, region, version, started_ms) at once and
 * every 2 s; load and rooms come from cnode_set_load. */
cnode *cnode_new(uv_loop_t *loop, credis *r, const cnode_info *self);
/* A clean exit: stops refreshing and deletes the node's key and set entry (queued:
 * the loop must run until cnode_pending is 0 for them to go). */
void cnode_leave(cnode *n);
/* Frees (the loop must run once more for the timer's close). Commands still in flight
 * must have been answered (cnode_pending 0) or the Redis client freed first. */
void cnode_free(cnode *n);
void cnode_set_load(cnode *n, unsigned load, unsigned rooms);
void cnode_set_media_addr(cnode *n, const char *media_addr);
/* Refreshes now. */
void cnode_refresh(cnode *n);
/* After a Redis reconnect: keeps the drain flag (a Redis restarted empty lost it),
 * then refreshes. */
void cnode_reconnected(cnode *n);
bool cnode_draining(const cnode *n);
/* The live nodes as of the last refresh, self included once registered. */
const cnode_info *cnode_list(const cnode *n, size_t *count);
const cnode_info *cnode_find(const cnode *n, const char *id);
/* Adds to the load of entry i of the list (a placement not yet in Redis); the next read
 * of the list replaces it. */
void cnode_add_load(cnode *n, size_t i, unsigned add);
/* Node id could not be reached: it counts as draining in this node's list until its
 * updated_ms in Redis moves (it is alive after all) or its key lapses. */
void cnode_unreachable(cnode *n, const char *id);
/* Commands in flight (the shutdown waits for them). */
unsigned cnode_pending(const cnode *n);

/* Placement: the index of the least-loaded serving node of region (ties broken by
 * rnd), or of any serving node when the region has none; -1 when none serves. */
int cnode_pick(const cnode_info *nodes, size_t count, const char *region, unsigned rnd);
/* The same over regions[0..n) in order (a policy server's media location, then its
 * overflow locations): the first region with a serving node wins, else any. */
int cnode_pick_in(const cnode_info *nodes, size_t count, const char *const *regions,
                  size_t n, unsigned rnd);
/* Fills nodes from the reply of CNODE_LIST_LUA; returns how many (at most cap). */
size_t cnode_parse_list(const redisReply *r, cnode_info *nodes, size_t cap);

/* Lua returning {id, {field, value, ...}, ...} for every live node, removing the
 * ids whose hash is gone from pl:nodes. KEYS[1] = "pl:nodes". */
extern const char CNODE_LIST_LUA[];

#endif
