/* lease — room leases in Redis with epoch fencing: pl:room:<room_key> = "<node> <epoch>"
 * (PX 8000, compare-and-renewed every 2000 ms by Lua), pl:epoch:<room_key> INCR on
 * every acquisition. A renewal that finds another holder is a lost lease. */
#ifndef PARLEY_CLUSTER_LEASE_H
#define PARLEY_CLUSTER_LEASE_H

#include "cluster/redis.h"

#include <stdbool.h>
#include <stdint.h>

#define LEASE_TTL_MS 8000
#define LEASE_RENEW_MS 2000
#define LEASE_IDLE_MS 5000 /* a room inactive this long is released */

typedef struct lease_table lease_table;

/* ok: the lease is ours with epoch. !ok: holder is "<node> <epoch>" of another node,
 * or NULL when Redis did not answer. */
typedef void (*lease_cb)(bool ok, const char *holder, uint64_t epoch, void *ud);

lease_table *lease_new(uv_loop_t *loop, credis *r, const char *node_id);
/* The conference side: active(room_key) keeps a lease; lost(room_key) is told when a
 * renewal finds another holder (the room must end here). */
void lease_set_rooms(lease_table *t, bool (*active)(const char *room_key, void *ud),
                     void (*lost)(const char *room_key, void *ud), void *ud);
void lease_acquire(lease_table *t, const char *room_key, lease_cb cb, void *ud);
bool lease_held(const lease_table *t, const char *room_key, uint64_t *epoch);
/* Redis never reached since this node started: room_key is served here on a provisional
 * lease (epoch 0, nothing in Redis). The first renewal with Redis up acquires it for
 * real, or finds it homed elsewhere: lost (the room ends here, its people rejoin its
 * home). */
void lease_provisional(lease_table *t, const char *room_key);
/* Renews every lease now: after a Redis reconnect (an empty Redis gets them back with
 * their epochs, unless another node took the room meanwhile). */
void lease_reassert(lease_table *t);
/* Redis came up (before lease_reassert): provisional leases wait
 * LEASE_PROVISIONAL_WAIT_MS from here, so that the nodes that held rooms before put their
 * leases back first (their reconnect backoff is at most 2 s) and an established room is
 * not taken from its home by a node that served it blind. */
void lease_redis_up(lease_table *t);
#define LEASE_PROVISIONAL_WAIT_MS 3000
/* A clean exit: releases every lease (queued; run the loop until lease_pending is 0). */
void lease_release_all(lease_table *t);
unsigned lease_count(const lease_table *t);
unsigned long lease_lost_total(const lease_table *t);
unsigned lease_pending(const lease_table *t);
/* Iterates the held leases: *pos = 0 first; NULL at the end. */
const char *lease_next(const lease_table *t, size_t *pos, uint64_t *epoch);
void lease_free(lease_table *t);

/* "node epoch" -> node (cap bytes) and epoch; -1 if malformed. */
int lease_parse_holder(const char *v, char *node, size_t cap, uint64_t *epoch);

#endif
