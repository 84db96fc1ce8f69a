/* sync — periodic WAL checkpoints on libuv's threadpool, so no commit on the control
 * loop waits for the disk. */
#include "store/sync.h"

#include "core/log.h"
#include "core/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store_sync {
  uv_timer_t timer;
  uv_work_t work;
  char path[600];
  bool busy; /* a checkpoint is on the threadpool */
  bool timer_closed;
  int rc; /* the last checkpoint's SQLite result, written by the worker */
  char error[200];
  uint64_t started_ms;
  store_sync_counters counters;
};

/* On the threadpool: its own connection, so the loop's is never used off its thread.
 * A PASSIVE checkpoint never waits for readers or writers; it syncs the log before
 * copying pages (synchronous=FULL here) and the database after. */
static void checkpoint(uv_work_t *w) {
  store_sync *s = w->data;
  sqlite3 *db = NULL;
  s->error[0] = '\0';
  s->rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE, NULL);
  if (s->rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    s->rc = sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
  }
  if (s->rc == SQLITE_OK)
    s->rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (s->rc != SQLITE_OK)
    snprintf(s->error, sizeof s->error, "%s", db ? sqlite3_errmsg(db) : "no memory");
  sqlite3_close(db);
}

static void checkpoint_done(uv_work_t *w, int status) {
  store_sync *s = w->data;
  s->busy = false;
  if (status == 0 && s->rc == SQLITE_OK) {
    s->counters.checkpoints++;
    s->counters.last_ms = uv_now(w->loop) - s->started_ms;
  } else {
    s->counters.failures++;
    log_warn("store", "background checkpoint failed: %s",
             s->error[0] ? s->error : uv_strerror(status));
  }
}

static void on_timer(uv_timer_t *t) {
  store_sync *s = t->data;
  if (s->busy)
    return; /* the disk is slower than the interval: one at a time */
  s->busy = true;
  s->started_ms = uv_now(t->loop);
  if (uv_queue_work(t->loop, &s->work, checkpoint, checkpoint_done) != 0) {
    s->busy = false;
    s->counters.failures++;
  }
}

store_sync *store_sync_start(store *st, uv_loop_t *loop, int interval_ms) {
  if (interval_ms <= 0)
    return NULL;
  /* NORMAL in WAL mode: a commit appends to the log and returns; only checkpoints
   * fsync. 0: the loop's commits never checkpoint (which would fsync) themselves. */
  if (sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;",
                   NULL, NULL, NULL) != SQLITE_OK) {
    log_warn("store", "commits keep syncing themselves: %s", store_error(st));
    return NULL;
  }
  store_sync *s = xcalloc(1, sizeof *s);
  snprintf(s->path, sizeof s->path, "%s", st->path);
  s->work.data = s;
  uv_timer_init(loop, &s->timer);
  s->timer.data = s;
  uv_timer_start(&s->timer, on_timer, (uint64_t)interval_ms, (uint64_t)interval_ms);
  return s;
}

static void on_timer_closed(uv_handle_t *h) {
  store_sync *s = h->data;
  s->timer_closed = true;
}

void store_sync_stop(store_sync *s) {
  if (!s)
    return;
  uv_loop_t *loop = s->timer.loop;
  uv_timer_stop(&s->timer);
  uv_close((uv_handle_t *)&s->timer, on_timer_closed);
  /* A closing handle makes the loop poll without waiting, and a finished checkpoint
   * wakes it: this returns within one checkpoint's time. */
  while (s->busy || !s->timer_closed)
    uv_run(loop, UV_RUN_ONCE);
  free(s);
}

void store_sync_counters_get(const store_sync *s, store_sync_counters *out) {
  if (s)
    *out = s->counters;
  else
    memset(out, 0, sizeof *out);
}
