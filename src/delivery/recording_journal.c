/* recording_journal — a recording's journal row from start to the outbox hand-over. */
#include "delivery/recording_journal.h"

#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct recording_journal {
  char id[40];
  recording_row row; /* its strings point into the arrays below */
  char session_id[80], client_id[128], account[64], path[600];
  char upload_url[RECORDING_JOURNAL_MAX_URL], webhook_url[RECORDING_JOURNAL_MAX_URL];
  char webhook_secret[96];
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define COPY(dst, src) snprintf(dst, sizeof dst, "%s", (src) ? (src) : "")

recording_journal *recording_journal_begin(store *st, const recording_spec *spec) {
  recording_journal *j = xcalloc(1, sizeof *j);
  if (spec->rec_id)
    snprintf(j->id, sizeof j->id, "%s", spec->rec_id);
  else
    ids_uuid(j->id);
  COPY(j->session_id, spec->session_id);
  COPY(j->client_id, spec->client_id);
  COPY(j->account, spec->account);
  snprintf(j->path, sizeof j->path, "%s/%s.%s", spec->dir, j->id, spec->extension);
  COPY(j->upload_url, spec->upload_url);
  COPY(j->webhook_url, spec->webhook_url);
  COPY(j->webhook_secret, spec->webhook_secret);
  j->row = (recording_row){.rec_id = j->id,
                           .session_id = j->session_id,
                           .client_id = j->client_id,
                           .account = j->account,
                           .path = j->path,
                           .upload_url = j->upload_url,
                           .webhook_url = j->webhook_url,
                           .webhook_secret = j->webhook_secret,
                           .started_at_ms = wall_ms()};
  if (store_recording_begin(st, &j->row) != 0) {
    log_error("recording", "cannot journal recording %s: %s", j->id, store_error(st));
    free(j);
    return NULL;
  }
  return j;
}

const char *recording_journal_id(const recording_journal *j) { return j->id; }
const char *recording_journal_path(const recording_journal *j) { return j->path; }

void recording_journal_first_frame(recording_journal *j, int64_t unix_ms) {
  j->row.first_frame_at_ms = unix_ms;
}

void recording_journal_closed(recording_journal *j, store *st, outbox *ob,
                              const recording_outcome *how) {
  recording_row *row = &j->row;
  row->size_bytes = how->size_bytes;
  row->duration_ms = how->duration_ms;
  row->stopped_at_ms = how->stopped_unix_ms ? how->stopped_unix_ms : wall_ms();
  if (how->first_frame_unix_ms)
    row->first_frame_at_ms = how->first_frame_unix_ms;
  if (how->ok) {
    log_info("recording", "recording %s closed: %llu bytes, %llu ms", j->id,
             (unsigned long long)how->size_bytes, (unsigned long long)how->duration_ms);
    outbox_recording_done(ob, row);
  } else {
    log_warn("recording", "recording %s failed: %s", j->id,
             how->error ? how->error : "?");
    store_recording_finish(st, row);
    store_recording_set_state(st, row->rec_id, "failed");
  }
  free(j);
}

void recording_journal_abandon(recording_journal *j) { free(j); }

int recording_journal_check_url(const outbox *ob, bool webhook, const char *url,
                                char *reason, size_t n) {
  if (strlen(url) >= RECORDING_JOURNAL_MAX_URL) {
    snprintf(reason, n, "longer than %d characters", RECORDING_JOURNAL_MAX_URL - 1);
    return -1;
  }
  return outbox_check_url(ob, webhook, url, reason, n);
}
