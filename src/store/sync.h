/* sync — keeps the disk's fsync off the event loop: the daemon's commits go to SQLite's
 * write-ahead log without waiting for the disk, and a checkpoint on libuv's threadpool
 * makes them durable every interval (redis's "appendfsync everysec"). */
#ifndef PARLEY_STORE_SYNC_H
#define PARLEY_STORE_SYNC_H

#include "store/db.h"

#include <stdint.h>
#include <uv.h>

typedef struct store_sync store_sync;

typedef struct {
  uint64_t checkpoints; /* completed on the threadpool (passes that found no new
                           commit do no I/O and are not counted) */
  uint64_t failures;    /* checkpoints SQLite refused (logged) */
  uint64_t last_ms;     /* how long the last one took, fsyncs included */
} store_sync_counters;

/* From now on st's commits do not fsync (WAL with synchronous=NORMAL: a crash of the
 * process loses nothing, a power cut at most the last interval_ms of commits), and
 * every interval_ms a checkpoint on loop's threadpool syncs the log and copies it into
 * the database. interval_ms 0 keeps SQLite's default (each commit fsyncs itself) and
 * returns NULL. Call on the loop's thread, after store_open. */
store_sync *store_sync_start(store *st, uv_loop_t *loop, int interval_ms);
/* Stops the checkpoints, waits for one under way, and frees sync (NULL is ignored).
 * Runs the loop to wait: call it outside uv_run, e.g. after the loop was stopped. */
void store_sync_stop(store_sync *sync);
void store_sync_counters_get(const store_sync *sync, store_sync_counters *out);

#endif
