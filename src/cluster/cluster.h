/* cluster — the facade api and parleyd use in cluster mode (--cluster): where a room
 * is answered (here, on another node to relay to, or nowhere for now), membership,
 * leases, the cluster secret and the parley_cluster_* metrics. docs/CLUSTER.md. */
#ifndef PARLEY_CLUSTER_H
#define PARLEY_CLUSTER_H

#include "cluster/redis.h"
#include "core/buf.h"
#include "core/config.h"
#include "store/db.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct cluster cluster;
typedef enum { CLUSTER_HERE, CLUSTER_THERE, CLUSTER_UNAVAILABLE } cluster_where;
typedef struct {
  cluster_where where;
  char node_id[64];
  char http_url[256]; /* THERE: where to relay */
  uint64_t epoch;
  char reason[200]; /* UNAVAILABLE: a sentence for the client */
} cluster_location;
typedef struct cluster_locate_call cluster_locate_call;

cluster *cluster_new(uv_loop_t *loop, const config *cfg, store *st, char *err, size_t n);
/* A clean exit: releases this node's leases and deletes its node key (waiting up to
 * 1 s for Redis to confirm, so the other nodes see it go at once), then frees. Call
 * it after uv_run has returned; it runs the loop itself for that wait. */
void cluster_free(cluster *c);
/* What the node announces as its media address ("" until set). */
void cluster_set_media_addr(cluster *c, const char *media_addr);
/* Where a request for room_key is answered. join: a request_token (may place the room
 * here or elsewhere); relayed: the request came from another node (answer HERE or
 * UNAVAILABLE, never THERE, so there are no relay loops; a relayed join places the
 * room here). Redis down: HERE for rooms homed here, THERE from the last known
 * location, else UNAVAILABLE with a clear reason. cb may run before cluster_locate
 * returns, and then NULL is returned. */
cluster_locate_call *cluster_locate(cluster *c, const char *room_key, bool join,
                                    bool relayed,
                                    void (*cb)(const cluster_location *, void *),
                                    void *ud);
/* cluster_locate for a join whose new room should go to the first of regions[0..n)
 * (at most CLUSTER_MAX_REGIONS) that has a serving node, else anywhere: the media
 * location a policy server chose. A room already placed stays where it is. */
#define CLUSTER_MAX_REGIONS 4
cluster_locate_call *cluster_locate_in(cluster *c, const char *room_key,
                                       const char *const *regions, size_t n,
                                       void (*cb)(const cluster_location *, void *),
                                       void *ud);
/* cluster_locate for a join (not relayed) that runs before_place only when this node
 * is about to place a room no node holds (Redis says so): never for a room already
 * placed. before_place asks what it needs (the policy server's media location) and
 * then calls cluster_locate_place with the regions the room should go to (n = 0: as
 * without). The room is looked up once more then (another node may have placed it
 * meanwhile). before_place runs from a Redis answer, never inside this call. */
typedef void (*cluster_place_hook)(cluster_locate_call *call, void *ud);
cluster_locate_call *cluster_locate_join(cluster *c, const char *room_key,
                                         cluster_place_hook before_place,
                                         void (*cb)(const cluster_location *, void *),
                                         void *ud);
void cluster_locate_place(cluster_locate_call *call, const char *const *regions,
                          size_t n);
/* cb will not run; NULL is ignored (also while before_place's answer is awaited). */
void cluster_locate_cancel(cluster_locate_call *call);

/* Ad-hoc rooms (the policy server's, in no store): Redis maps each alias they were
 * joined through, and their service name, to the room key (the room's first alias on
 * its home): pl:alias:<alias> and pl:adhoc:<name>, PX 8000, rewritten every 2 s by the
 * home while it holds the room's lease. cb gets the room key, or NULL (none, or Redis
 * did not answer); it runs from a Redis answer, never inside the call. */
typedef struct cluster_key_call cluster_key_call;
typedef void (*cluster_key_cb)(const char *room_key, void *ud);
cluster_key_call *cluster_adhoc_find(cluster *c, const char *alias, cluster_key_cb cb,
                                     void *ud);
/* The room key of the ad-hoc room called name: the one in Redis, else room_key, which
 * is then written there (the first node to place it wins, so two first joins through
 * different aliases and nodes still meet in one room). */
cluster_key_call *cluster_adhoc_claim(cluster *c, const char *name, const char *room_key,
                                      cluster_key_cb cb, void *ud);
void cluster_key_call_cancel(cluster_key_call *call); /* NULL is ignored */
/* The home: an ad-hoc room room_key (its service name) was joined through alias. */
void cluster_adhoc_note(cluster *c, const char *room_key, const char *name,
                        const char *alias);
/* The conference side: is room_key active here (leases of inactive rooms are released
 * after 5 s), how many participants here (load), and what to do when a lease is lost
 * (end the room: its participants get `disconnect` and rejoin through the new home). */
void cluster_set_rooms(cluster *c, bool (*active)(const char *room_key, void *ud),
                       unsigned (*participants)(void *ud),
                       void (*lease_lost)(const char *room_key, void *ud), void *ud);
bool cluster_draining(const cluster *c);
/* A node this one could not connect to (a relay refused): no new room is placed on it
 * until its entry in Redis is refreshed again (a node killed keeps its key for 6 s). */
void cluster_node_unreachable(cluster *c, const char *node_id);
const char *cluster_node_id(const cluster *c);
const uint8_t *cluster_secret(const cluster *c, size_t *len);
void cluster_metrics(const cluster *c, buf *out); /* Prometheus text, parley_cluster_* */
credis *cluster_redis(cluster *c);                /* for config_sync */

/* Redis-down answers, reasons for the client (the 503's "result"). */
#define CLUSTER_REASON_REDIS_DOWN                                                        \
  "The conference service is temporarily unavailable (the cluster's directory cannot "   \
  "be reached); please try again in a few seconds"
#define CLUSTER_REASON_NO_NODE                                                           \
  "No conferencing node is accepting new conferences right now; please try again later"
#define CLUSTER_REASON_HOME_GONE                                                         \
  "The conference is moving to another node; please try again in a few seconds"

#endif
