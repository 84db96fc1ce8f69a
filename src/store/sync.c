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
  sqlite3 *db;          /* the worker's own connection, used by one thread at a time */
  int64_t seen_version; /* its data_version after its last pass */
  bool busy;            /* a checkpoint is on the threadpool */
  bool idle;            /* the last pass found nothing committed since the one before */
  bool timer_closed;
  int rc; /* the last checkpoint's SQLite result, written by the worker */
  char error[200];
  uint64_t started_ms;
  store_sync_counters counters;
};

/* Rewriting the application id (the same value: it names the file as Parley's) is the
 * smallest commit there is: one page. */
#define RESTART_SQL "PRAGMA application_id = 1349675897" /* "Prly" */

static int open_worker(store_sync *s) {
  if (s->db)
    return SQLITE_OK;
  int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(s->db, 1000); /* off the loop: waiting is fine here */
    rc = sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
  }
  return rc;
}

/* Changes when another connection (the loop's, parleyctl's) has committed. */
static int64_t data_version(sqlite3 *db) {
  sqlite3_stmt *st;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
    return -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* On the threadpool, with a connection of its own so the loop's is never used off its
 * thread. Nothing committed since the last pass: no I/O at all. Otherwise a PASSIVE
 * checkpoint, which never waits for readers or writers, syncs the log and copies it
 * into the database. When that leaves every frame copied, the next commit restarts
 * the log from its start and syncs the log's new header: SQLite does that whatever
 * synchronous says, so a power cut cannot replay old frames. Left to the loop, that
 * would be one fsync per interval there; this pass makes that commit itself. */
static void checkpoint(uv_work_t *w) {
  store_sync *s = w->data;
  s->error[0] = '\0';
  s->idle = false;
  s->rc = open_worker(s);
  int64_t v = s->rc == SQLITE_OK ? data_version(s->db) : -1;
  if (s->rc == SQLITE_OK && v >= 0 && v == s->seen_version) {
    s->idle = true;
    return;
  }
  int n_log = 0, n_copied = 0;
  if (s->rc == SQLITE_OK)
    s->rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &n_log,
                                      &n_copied);
  if (s->rc == SQLITE_OK && n_log > 0 && n_copied == n_log)
    s->rc = sqlite3_exec(s->db, RESTART_SQL, NULL, NULL, NULL);
  if (s->rc != SQLITE_OK)
    snprintf(s->error, sizeof s->error, "%s",
             s->db ? sqlite3_errmsg(s->db) : "cannot open the database");
  s->seen_version = data_version(s->db); /* our own commit does not move it */
}

static void checkpoint_done(uv_work_t *w, int status) {
  store_sync *s = w->data;
  s->busy = false;
  if (status == 0 && s->rc == SQLITE_OK && s->idle) {
    return;
  } else if (status == 0 && s->rc == SQLITE_OK) {
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
  /* The restart commit once here too, at start-up: the loop's first commit must not be
   * the one that writes a new log's header. */
  if (sqlite3_exec(st->db,
                   "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0; " RESTART_SQL,
                   NULL, NULL, NULL) != SQLITE_OK) {
    log_warn("store", "commits keep syncing themselves: %s", store_error(st));
    return NULL;
  }
  store_sync *s = xcalloc(1, sizeof *s);
  snprintf(s->path, sizeof s->path, "%s", st->path);
  s->work.data = s;
  s->seen_version = -1;
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
  sqlite3_close(s->db);
  free(s);
}

void store_sync_counters_get(const store_sync *s, store_sync_counters *out) {
  if (s)
    *out = s->counters;
  else
    memset(out, 0, sizeof *out);
}
