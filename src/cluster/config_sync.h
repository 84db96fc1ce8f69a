/* config_sync — one place to manage a cluster: the management node publishes its store's
 * rooms, accounts and API keys to Redis (`pl:config` hash {version, body}, announced on
 * channel `pl:config`); every other node applies a newer version to its own store in one
 * transaction, and keeps serving what its store holds while Redis is away. */
#ifndef PARLEY_CLUSTER_CONFIG_SYNC_H
#define PARLEY_CLUSTER_CONFIG_SYNC_H

#include "cluster/redis.h"
#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct csync csync;

#define CSYNC_KEY "pl:config" /* the hash {version, body} and the channel */
/* management: how often data_version is read. A read is one PRAGMA on an open
 * connection (microseconds); at 200 ms the poll was most of the propagation time and a
 * loaded 2-core machine went past the 1 s the issue allows (1.1-1.5 s). */
#define CSYNC_POLL_STORE_MS 50
#define CSYNC_POLL_REDIS_MS 5000 /* others: how often pl:config's version is read */

/* Starts config sync on loop with r (cluster_redis). It opens a connection of its own to
 * DATA_DIR/parley.db: its commits are what the conference directory's data_version
 * notices. management: publish on start, on every store change and on every Redis
 * (re)connect; otherwise: subscribe and apply newer versions. NULL with err on failure.
 */
csync *csync_new(uv_loop_t *loop, credis *r, const char *data_dir, bool management,
                 char *err, size_t n);
/* Shutdown is two steps around freeing the credis (cluster_free), which has no way to
 * forget our callbacks: csync_stop before it (no command is sent from then on, also when
 * store work comes back meanwhile), csync_free after it (credis_free has answered every
 * pending command, and no callback can come later). csync_free waits for store work under
 * way by running the loop, so call it outside uv_run; the loop must run once more after
 * it for the timer's close callback. NULL is ignored by both. */
void csync_stop(csync *sync);
void csync_free(csync *sync);

/* Prometheus text: parley_cluster_config_version (published on the management node,
 * applied elsewhere), parley_cluster_config_applied_total, ..._published_total and
 * ..._refused_total. NULL writes nothing. */
void csync_metrics(const csync *sync, buf *out);
/* The version published (management) or applied (others); 0 when none yet. */
int64_t csync_version(const csync *sync);

#endif
