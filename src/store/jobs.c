/* jobs — recordings and outbox rows: inserts, state changes and scans over SQLite
 * (tables created by the outbox migration in db.c). */
#include "store/jobs.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static void bind_text(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}

static const char *col_text(sqlite3_stmt *s, int i) {
  return (const char *)sqlite3_column_text(s, i);
}

/* Runs a prepared statement that returns no rows and finalizes it. */
static int run(store *st, sqlite3_stmt *s) {
  int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(s);
  return rc;
}

static sqlite3_stmt *prepare(store *st, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return NULL;
  return s;
}

/* ---- recordings ---- */

recording_row *recording_row_copy(const recording_row *r) {
  recording_row *c = xcalloc(1, sizeof *c);
  *c = *r;
  c->rec_id = dup_or_null(r->rec_id);
  c->session_id = dup_or_null(r->session_id);
  c->client_id = dup_or_null(r->client_id);
  c->account = dup_or_null(r->account);
  c->path = dup_or_null(r->path);
  c->upload_url = dup_or_null(r->upload_url);
  c->webhook_url = dup_or_null(r->webhook_url);
  c->webhook_secret = dup_or_null(r->webhook_secret);
  c->state = dup_or_null(r->state);
  return c;
}

void recording_row_free(recording_row *r) {
  if (!r)
    return;
  free((char *)r->rec_id);
  free((char *)r->session_id);
  free((char *)r->client_id);
  free((char *)r->account);
  free((char *)r->path);
  free((char *)r->upload_url);
  free((char *)r->webhook_url);
  free((char *)r->webhook_secret);
  free((char *)r->state);
  free(r);
}

#define RECORDING_COLUMNS                                                                \
  "rec_id, session_id, client_id, account, path, upload_url, webhook_url, "              \
  "webhook_secret, state, started_at_ms, first_frame_at_ms, stopped_at_ms, size_bytes, " \
  "duration_ms"

static void bind_recording(sqlite3_stmt *s, const recording_row *r, const char *state) {
  bind_text(s, 1, r->rec_id);
  bind_text(s, 2, r->session_id ? r->session_id : "");
  bind_text(s, 3, r->client_id ? r->client_id : "");
  bind_text(s, 4, r->account ? r->account : "");
  bind_text(s, 5, r->path);
  bind_text(s, 6, r->upload_url);
  bind_text(s, 7, r->webhook_url);
  bind_text(s, 8, r->webhook_secret);
  bind_text(s, 9, state);
  sqlite3_bind_int64(s, 10, r->started_at_ms);
  sqlite3_bind_int64(s, 11, r->first_frame_at_ms);
  sqlite3_bind_int64(s, 12, r->stopped_at_ms);
  sqlite3_bind_int64(s, 13, (sqlite3_int64)r->size_bytes);
  sqlite3_bind_int64(s, 14, (sqlite3_int64)r->duration_ms);
}

static void read_recording(sqlite3_stmt *s, recording_row *r) {
  r->rec_id = col_text(s, 0);
  r->session_id = col_text(s, 1);
  r->client_id = col_text(s, 2);
  r->account = col_text(s, 3);
  r->path = col_text(s, 4);
  r->upload_url = col_text(s, 5);
  r->webhook_url = col_text(s, 6);
  r->webhook_secret = col_text(s, 7);
  r->state = col_text(s, 8);
  r->started_at_ms = sqlite3_column_int64(s, 9);
  r->first_frame_at_ms = sqlite3_column_int64(s, 10);
  r->stopped_at_ms = sqlite3_column_int64(s, 11);
  r->size_bytes = (uint64_t)sqlite3_column_int64(s, 12);
  r->duration_ms = (uint64_t)sqlite3_column_int64(s, 13);
}

int store_recording_begin(store *st, const recording_row *r) {
  if (!r->rec_id || !r->path)
    return -1;
  sqlite3_stmt *s = prepare(st, "INSERT INTO recordings(" RECORDING_COLUMNS ") "
                                "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s)
    return -1;
  bind_recording(s, r, "recording");
  return run(st, s);
}

int store_recording_finish(store *st, const recording_row *r) {
  if (!r->rec_id || !r->path)
    return -1;
  sqlite3_stmt *s = prepare(
      st, "INSERT INTO recordings(" RECORDING_COLUMNS ") "
          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(rec_id) DO UPDATE SET "
          "state = excluded.state, first_frame_at_ms = excluded.first_frame_at_ms, "
          "stopped_at_ms = excluded.stopped_at_ms, size_bytes = excluded.size_bytes, "
          "duration_ms = excluded.duration_ms");
  if (!s)
    return -1;
  bind_recording(s, r, "finished");
  return run(st, s);
}

int store_recording_set_state(store *st, const char *rec_id, const char *state) {
  sqlite3_stmt *s = prepare(st, "UPDATE recordings SET state = ? WHERE rec_id = ?");
  if (!s)
    return -1;
  bind_text(s, 1, state);
  bind_text(s, 2, rec_id);
  return run(st, s);
}

recording_row *store_recording_get(store *st, const char *rec_id) {
  sqlite3_stmt *s =
      prepare(st, "SELECT " RECORDING_COLUMNS " FROM recordings WHERE rec_id = ?");
  if (!s)
    return NULL;
  bind_text(s, 1, rec_id);
  recording_row *out = NULL;
  if (sqlite3_step(s) == SQLITE_ROW) {
    recording_row r;
    read_recording(s, &r);
    out = recording_row_copy(&r);
  }
  sqlite3_finalize(s);
  return out;
}

int store_recordings_unfinished(store *st, void (*cb)(const recording_row *r, void *ud),
                                void *ud) {
  sqlite3_stmt *s = prepare(st, "SELECT " RECORDING_COLUMNS " FROM recordings "
                                "WHERE state = 'recording' ORDER BY started_at_ms");
  if (!s)
    return -1;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    recording_row r;
    read_recording(s, &r);
    cb(&r, ud);
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? 0 : -1;
}

/* ---- outbox ---- */

outbox_job *outbox_job_copy(const outbox_job *j) {
  outbox_job *c = xcalloc(1, sizeof *c);
  *c = *j;
  c->kind = dup_or_null(j->kind);
  c->rec_id = dup_or_null(j->rec_id);
  c->url = dup_or_null(j->url);
  c->body = dup_or_null(j->body);
  c->secret = dup_or_null(j->secret);
  c->webhook_id = dup_or_null(j->webhook_id);
  c->state = dup_or_null(j->state);
  return c;
}

void outbox_job_free(outbox_job *j) {
  if (!j)
    return;
  free((char *)j->kind);
  free((char *)j->rec_id);
  free((char *)j->url);
  free((char *)j->body);
  free((char *)j->secret);
  free((char *)j->webhook_id);
  free((char *)j->state);
  free(j);
}

int64_t store_job_add(store *st, const outbox_job *j) {
  sqlite3_stmt *s =
      prepare(st, "INSERT INTO outbox(kind, rec_id, url, body, secret, "
                  "webhook_id, attempts, next_attempt_at_ms, deadline_ms, "
                  "state, last_status) VALUES(?,?,?,?,?,?,?,?,?,'pending',0)");
  if (!s)
    return -1;
  bind_text(s, 1, j->kind);
  bind_text(s, 2, j->rec_id);
  bind_text(s, 3, j->url);
  bind_text(s, 4, j->body);
  bind_text(s, 5, j->secret);
  bind_text(s, 6, j->webhook_id);
  sqlite3_bind_int(s, 7, j->attempts);
  sqlite3_bind_int64(s, 8, j->next_attempt_at_ms);
  sqlite3_bind_int64(s, 9, j->deadline_ms);
  if (run(st, s) != 0)
    return -1;
  return sqlite3_last_insert_rowid(st->db);
}

static int update_job(store *st, int64_t id, int attempts, int64_t next_ms,
                      const char *state, int last_status, const char *last_error) {
  sqlite3_stmt *s =
      prepare(st, "UPDATE outbox SET attempts = ?, next_attempt_at_ms = ?, "
                  "state = ?, last_status = ?, last_error = ? WHERE id = ?");
  if (!s)
    return -1;
  sqlite3_bind_int(s, 1, attempts);
  sqlite3_bind_int64(s, 2, next_ms);
  bind_text(s, 3, state);
  sqlite3_bind_int(s, 4, last_status);
  bind_text(s, 5, last_error);
  sqlite3_bind_int64(s, 6, id);
  return run(st, s);
}

int store_job_retry(store *st, int64_t id, int attempts, int64_t next_attempt_at_ms,
                    int last_status, const char *last_error) {
  return update_job(st, id, attempts, next_attempt_at_ms, "pending", last_status,
                    last_error);
}

int store_job_fail(store *st, int64_t id, int attempts, int last_status,
                   const char *last_error) {
  return update_job(st, id, attempts, 0, "failed", last_status, last_error);
}

int store_job_delete(store *st, int64_t id) {
  sqlite3_stmt *s = prepare(st, "DELETE FROM outbox WHERE id = ?");
  if (!s)
    return -1;
  sqlite3_bind_int64(s, 1, id);
  return run(st, s);
}

int store_jobs_pending_each(store *st, bool (*cb)(const outbox_job *j, void *ud),
                            void *ud) {
  sqlite3_stmt *s = prepare(st, "SELECT id, kind, rec_id, url, body, secret, webhook_id, "
                                "attempts, next_attempt_at_ms, deadline_ms, state, "
                                "last_status FROM outbox WHERE state = 'pending' "
                                "ORDER BY next_attempt_at_ms, id");
  if (!s)
    return -1;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    outbox_job j = {.id = sqlite3_column_int64(s, 0),
                    .kind = col_text(s, 1),
                    .rec_id = col_text(s, 2),
                    .url = col_text(s, 3),
                    .body = col_text(s, 4),
                    .secret = col_text(s, 5),
                    .webhook_id = col_text(s, 6),
                    .attempts = sqlite3_column_int(s, 7),
                    .next_attempt_at_ms = sqlite3_column_int64(s, 8),
                    .deadline_ms = sqlite3_column_int64(s, 9),
                    .state = col_text(s, 10),
                    .last_status = sqlite3_column_int(s, 11)};
    if (!cb(&j, ud)) {
      step = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? 0 : -1;
}

int64_t store_jobs_pending_count(store *st) {
  sqlite3_stmt *s = prepare(st, "SELECT count(*) FROM outbox WHERE state = 'pending'");
  if (!s)
    return -1;
  int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  return n;
}

int store_tx_begin(store *st) {
  return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int store_tx_commit(store *st) {
  return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void store_tx_rollback(store *st) { sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL); }
