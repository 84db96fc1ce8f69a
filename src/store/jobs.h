/* jobs — recordings and the outbox of uploads and webhooks in SQLite, so that work
 * promised to a client (upload this file, tell this URL) survives a restart or a crash.
 */
#ifndef PARLEY_JOBS_H
#define PARLEY_JOBS_H

#include "store/db.h"

#include <stdbool.h>

/* A recording. Strings are borrowed (the caller's, or valid during a callback) unless the
 * row came from recording_row_copy or store_recording_get (then recording_row_free). */
typedef struct {
  const char *rec_id, *session_id, *client_id, *account; /* account: the JWT's cid */
  const char *path;                                      /* the file on disk */
  const char *upload_url, *webhook_url, *webhook_secret; /* "" or NULL when absent */
  const char *state; /* read back: recording, finished, uploaded or failed */
  int64_t started_at_ms, first_frame_at_ms, stopped_at_ms; /* unix ms; 0 = none */
  uint64_t size_bytes, duration_ms;
} recording_row;

recording_row *recording_row_copy(const recording_row *r);
void recording_row_free(recording_row *r);

/* A recording starts: stored in state 'recording' (what crash recovery looks for). */
int store_recording_begin(store *st, const recording_row *r);
/* The file is closed: state 'finished' with the stop fields (inserted if begin was
 * never called). */
int store_recording_finish(store *st, const recording_row *r);
int store_recording_set_state(store *st, const char *rec_id, const char *state);
/* NULL if there is no such recording. */
recording_row *store_recording_get(store *st, const char *rec_id);
/* Calls cb for every recording still in state 'recording'. Returns 0 or -1. */
int store_recordings_unfinished(store *st, void (*cb)(const recording_row *r, void *ud),
                                void *ud);

/* One outbox job. kind "upload" (rec_id names the recording, url is its upload_url) or
 * "webhook" (url, body, secret, webhook_id). state: pending or failed; a job that
 * succeeds is deleted. */
typedef struct {
  int64_t id;
  const char *kind, *rec_id, *url, *body, *secret, *webhook_id;
  int attempts;
  int64_t next_attempt_at_ms, deadline_ms;
  const char *state;
  int last_status;
} outbox_job;

outbox_job *outbox_job_copy(const outbox_job *j);
void outbox_job_free(outbox_job *j);

/* Inserts a pending job; returns its id or -1. */
int64_t store_job_add(store *st, const outbox_job *j);
/* After a failed attempt that will be retried. */
int store_job_retry(store *st, int64_t id, int attempts, int64_t next_attempt_at_ms,
                    int last_status, const char *last_error);
/* After the last failed attempt: kept as 'failed' for the operator. */
int store_job_fail(store *st, int64_t id, int attempts, int last_status,
                   const char *last_error);
int store_job_delete(store *st, int64_t id);
/* Pending jobs, earliest next_attempt_at_ms first; cb returns false to stop. */
int store_jobs_pending_each(store *st, bool (*cb)(const outbox_job *j, void *ud),
                            void *ud);
/* Number of pending jobs, or -1. */
int64_t store_jobs_pending_count(store *st);

/* Transactions around several of the calls above (one commit, one fsync). */
int store_tx_begin(store *st);
int store_tx_commit(store *st);
void store_tx_rollback(store *st);

#endif
