/* recording_journal — one recording from its start to the outbox, as RTM and pub/sub
 * both hand theirs over: the journal row (state 'recording', what crash recovery looks
 * for), then at close an upload + webhook through the outbox, or the row marked failed.
 */
#ifndef PARLEY_RECORDING_JOURNAL_H
#define PARLEY_RECORDING_JOURNAL_H

#include "delivery/outbox.h"
#include "store/jobs.h"

#include <stdbool.h>
#include <stdint.h>

#define RECORDING_JOURNAL_MAX_URL 2048 /* upload and webhook URLs: longer are refused */

typedef struct recording_journal recording_journal;

/* What a recording is: who it belongs to and where it goes. Strings are copied. */
typedef struct {
  const char *rec_id; /* NULL: one is made (a UUID); else at most 39 characters */
  const char *session_id, *client_id, *account;
  const char *dir, *extension; /* the file: dir/rec_id.extension */
  const char *upload_url, *webhook_url, *webhook_secret; /* "" or NULL when none */
} recording_spec;

/* What the recorder said when the file closed. */
typedef struct {
  bool ok;
  const char *error; /* when !ok */
  uint64_t size_bytes, duration_ms;
  int64_t first_frame_unix_ms, stopped_unix_ms; /* 0: unknown */
} recording_outcome;

/* Makes the recording id (unless given) and path and journals the row; NULL (nothing
 * kept) when the journal cannot be written. */
recording_journal *recording_journal_begin(store *st, const recording_spec *spec);
const char *recording_journal_id(const recording_journal *j);
const char *recording_journal_path(const recording_journal *j);
/* The wall clock of the first frame, when the recorder tells it early. */
void recording_journal_first_frame(recording_journal *j, int64_t unix_ms);
/* The file is closed: ok hands the row to the outbox (upload, then one webhook);
 * otherwise the row is journaled as failed. Frees j. */
void recording_journal_closed(recording_journal *j, store *st, outbox *ob,
                              const recording_outcome *how);
/* Forgets j without closing it (shutdown ran out of time): its row stays 'recording',
 * so crash recovery finalises and delivers the file at the next start. */
void recording_journal_abandon(recording_journal *j);
/* Whether url may be given as a recording's upload (webhook false) or webhook URL:
 * 0, or -1 with a reason (too long, or the outbox would never deliver to it). */
int recording_journal_check_url(const outbox *ob, bool webhook, const char *url,
                                char *reason, size_t n);

#endif
