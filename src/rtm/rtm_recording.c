/* rtm_recording — an RTM session's recordings: start and stop on the media loop, the
 * SQLite journal row, recording_state to the client, and the hand-over to the outbox. */
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "delivery/outbox.h"
#include "delivery/recording_journal.h"
#include "media/recording_router.h"
#include "rtm/rtm_internal.h"
#include "store/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rtm_recording {
  char id[40];
  rtm_session *session; /* NULL once the session has gone */
  bool started;
  recording_journal *journal; /* the row, until it goes to the outbox */
};

static void send_recording_state(rtm_recording *r, const char *state,
                                 const char *reason) {
  if (!r->session)
    return;
  json_t *data = json_pack("{s:s, s:s}", "recording_id", r->id, "state", state);
  if (reason && *reason)
    json_object_set_new(data, "reason", json_string(reason));
  rtm_send(r->session, "recording_state", data);
}

bool rtm_check_url(rtm_core *core, bool webhook, const char *url, refusal *why) {
  char reason[160];
  if (recording_journal_check_url(core->ob, webhook, url, reason, sizeof reason) == 0)
    return true;
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s", webhook ? "webhook_url" : "upload_url", reason);
  return rtm_refuse(why, RTM_E_BAD_URL, msg);
}

static bool may_record(rtm_session *s, const char *upload_url, const char *webhook_url,
                       refusal *why) {
  if (s->supervisor)
    return rtm_refuse(why, RTM_E_FORBIDDEN, "a supervisor's session is not recorded");
  if (s->state != RTM_SETUP && s->state != RTM_ACTIVE)
    return rtm_refuse(why, RTM_E_STATE, "the session is not live");
  if (!s->who.can_record)
    return rtm_refuse(why, RTM_E_FORBIDDEN, "these credentials may not record");
  if (s->recording)
    return rtm_refuse(why, RTM_E_STATE, "a recording is already running");
  return rtm_check_url(s->core, false, upload_url, why) &&
         (!webhook_url || !*webhook_url ||
          rtm_check_url(s->core, true, webhook_url, why));
}

int rtm_recording_start(rtm_session *s, const char *upload_url, const char *webhook_url,
                        refusal *why) {
  if (!may_record(s, upload_url, webhook_url, why))
    return -1;
  rtm_core *core = s->core;
  recording_spec spec = {.session_id = s->id,
                         .client_id = s->client_id,
                         .account = s->who.cid,
                         .dir = core->recordings_dir,
                         .extension = recording_extension(&s->media.agreed),
                         .upload_url = upload_url,
                         .webhook_url =
                             webhook_url && *webhook_url ? webhook_url : s->webhook_url,
                         .webhook_secret = s->who.webhook_secret};
  recording_journal *j = recording_journal_begin(core->st, &spec);
  if (!j)
    return rtm_refuse(why, RTM_E_INTERNAL, "the recording journal cannot be written"), -1;
  rtm_recording *r = xcalloc(1, sizeof *r);
  r->journal = j;
  snprintf(r->id, sizeof r->id, "%s", recording_journal_id(j));
  r->session = s;
  s->recording = r;
  core->counters.recordings_started++;
  hmap_put(core->recordings, r->id, strlen(r->id), r);
  const char *path = recording_journal_path(j);
  media_engine_start_recording(core->media, &s->media, r->id, path);
  log_info("rtm", "session %s: recording %s to %s", s->id, r->id, path);
  return 0;
}

int rtm_recording_stop(rtm_session *s, refusal *why) {
  if (!s->recording)
    return rtm_refuse(why, RTM_E_STATE, "no recording is running"), -1;
  media_engine_stop_recording(s->core->media, &s->media);
  return 0;
}

void rtm_recording_on_started(rtm_core *core, const media_event *ev) {
  rtm_recording *r = hmap_get(core->recordings, ev->rec_id, strlen(ev->rec_id));
  if (!r || r->started)
    return;
  r->started = true;
  recording_journal_first_frame(r->journal, ev->first_frame_ms);
  send_recording_state(r, "STARTED", NULL);
}

void rtm_recording_on_closed(rtm_core *core, const media_event *ev) {
  rtm_recording *r = hmap_remove(core->recordings, ev->rec_id, strlen(ev->rec_id));
  if (!r)
    return;
  const media_recording *m = &ev->recording;
  if (m->ok) {
    send_recording_state(r, "STOPPED", NULL);
  } else {
    send_recording_state(r, "FAILED", ev->text);
    core->counters.recordings_failed++;
  }
  recording_outcome how = {.ok = m->ok,
                           .error = ev->text,
                           .size_bytes = m->size_bytes,
                           .duration_ms = m->duration_ms,
                           .first_frame_unix_ms = m->first_frame_unix_ms,
                           .stopped_unix_ms = m->stopped_unix_ms};
  recording_journal_closed(r->journal, core->st, core->ob, &how);
  rtm_session *s = r->session;
  free(r);
  if (s)
    rtm_session_recording_closed(s);
}

void rtm_recording_forget_session(rtm_recording *r) { r->session = NULL; }
