/* ps_recording — pub/sub recordings: start and stop, events to the session, and the
 * hand-over of each closed file to the outbox (delivery/recording_journal.c). */
#include "pubsub/ps_recording.h"

#include "core/buf.h"
#include "core/hmap.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "delivery/recording_journal.h"
#include "media/recording_router.h"
#include "pubsub/ps_internal.h"
#include "store/accounts.h"

#include <stdio.h>
#include <string.h>

#define MAX_FEEDS_LISTED 256

/* One recording, from record_start until its file is closed. */
typedef struct {
  char id[40];
  char cid[64], sid[PS_MAX_ID + 1], feed_id[PS_MAX_ID + 1], uid[PS_MAX_ID + 1];
  media_call where; /* the publish call: its uuid and placement (mode, room_key) */
  recording_journal *journal;
  bool started, stopping;
} ps_rec;

struct ps_recorder {
  uv_loop_t *loop;
  ps_core *core; /* NULL once shutting down: no more events to clients */
  store *st;
  media_engine *media;
  outbox *ob;
  char dir[512];
  int max_per_session;
  hmap *recs; /* rec id -> ps_rec */
  ps_recording_counters n;
  uv_timer_t *grace;
  void (*done)(void *ud);
  void *done_ud;
};

ps_recorder *ps_recorder_new(ps_core *core, store *st, media_engine *media, outbox *ob,
                             const char *dir, int max_per_session) {
  ps_recorder *r = xcalloc(1, sizeof *r);
  r->loop = core->loop;
  r->core = core;
  r->st = st;
  r->media = media;
  r->ob = ob;
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  r->max_per_session = max_per_session > 0 ? max_per_session : 32;
  r->recs = hmap_new();
  core->recorder = r;
  return r;
}

void ps_recorder_counters(const ps_recorder *r, ps_recording_counters *out) {
  *out = r->n;
  out->open = hmap_count(r->recs);
}

/* ---- events to the session's participants --------------------------------------- */

static void tell_session(ps_recorder *r, const ps_rec *rec, const char *ev,
                         json_t *data) {
  ps_session *s = NULL;
  if (r->core) {
    char key[PS_KEY_MAX];
    int len = snprintf(key, sizeof key, "%s\n%s", rec->cid, rec->sid);
    if (len > 0 && (size_t)len < sizeof key)
      s = hmap_get(r->core->sessions, key, (size_t)len);
  }
  if (s)
    ps_broadcast(s, NULL, ev, data);
  else
    json_decref(data);
}

/* ---- start ---------------------------------------------------------------------- */

static ps_session *session_of(ps_participant *p) { return p->s; }

static size_t open_in(ps_recorder *r, const char *cid, const char *sid) {
  size_t n = 0, pos = 0;
  ps_rec *rec;
  while ((rec = hmap_next(r->recs, &pos)))
    n += strcmp(rec->cid, cid) == 0 && strcmp(rec->sid, sid) == 0 && !rec->stopping;
  return n;
}

static ps_rec *running_for(ps_recorder *r, const char *cid, const char *sid,
                           const char *feed_id) {
  size_t pos = 0;
  ps_rec *rec;
  while ((rec = hmap_next(r->recs, &pos)))
    if (!rec->stopping && strcmp(rec->feed_id, feed_id) == 0 &&
        strcmp(rec->sid, sid) == 0 && strcmp(rec->cid, cid) == 0)
      return rec;
  return NULL;
}

/* upload_url with {rec_id}, {feed_id}, {uid} and {sid} replaced. */
static void expand(const char *tmpl, const ps_rec *rec, char *out, size_t cap) {
  buf b = {0};
  static const char *const names[] = {"{rec_id}", "{feed_id}", "{uid}", "{sid}"};
  const char *values[] = {rec->id, rec->feed_id, rec->uid, rec->sid};
  for (const char *c = tmpl; *c;) {
    bool replaced = false;
    for (int i = 0; i < 4 && !replaced; i++)
      if (strncmp(c, names[i], strlen(names[i])) == 0) {
        buf_append(&b, values[i], strlen(values[i]));
        c += strlen(names[i]);
        replaced = true;
      }
    if (!replaced)
      buf_append(&b, c++, 1);
  }
  snprintf(out, cap, "%.*s", (int)b.len, b.len ? b.data : "");
  buf_free(&b);
}

static bool check_url(ps_recorder *r, bool webhook, const char *url, refusal *why) {
  char reason[200];
  if (recording_journal_check_url(r->ob, webhook, url, reason, sizeof reason) == 0)
    return true;
  ps_refuse(why, PS_E_BAD_REQUEST, "%s: %s", webhook ? "webhook_url" : "upload_url",
            reason);
  return false;
}

static ps_rec *begin(ps_recorder *r, ps_participant *p, ps_feed *f,
                     const char *upload_url, const char *webhook_url, refusal *why) {
  ps_session *s = session_of(p);
  ps_rec *rec = xcalloc(1, sizeof *rec);
  ids_uuid(rec->id);
  snprintf(rec->cid, sizeof rec->cid, "%s", s->cid);
  snprintf(rec->sid, sizeof rec->sid, "%s", s->sid);
  snprintf(rec->feed_id, sizeof rec->feed_id, "%s", f->id);
  snprintf(rec->uid, sizeof rec->uid, "%s", f->owner->uid);
  const media_call *pub = f->owner->pub;
  rec->where.mode = pub->mode;
  rec->where.room_key = pub->room_key;
  snprintf(rec->where.call_uuid, sizeof rec->where.call_uuid, "%s", pub->call_uuid);
  char url[RECORDING_JOURNAL_MAX_URL];
  expand(upload_url, rec, url, sizeof url);
  if (!check_url(r, false, url, why)) {
    free(rec);
    return NULL;
  }
  /* The webhook is signed with the account's secret, as RTM's are. */
  account acc = {0};
  if (accounts_get(r->st, s->cid, &acc) != 0)
    log_warn("pubsub", "account %s not found: webhooks unsigned", s->cid);
  /* The feed's owner is the webhook's client_id. */
  recording_spec spec = {.rec_id = rec->id,
                         .session_id = s->sid,
                         .client_id = f->owner->uid,
                         .account = s->cid,
                         .dir = r->dir,
                         .extension = recording_extension(&pub->agreed),
                         .upload_url = url,
                         .webhook_url = webhook_url,
                         .webhook_secret = acc.webhook_secret};
  rec->journal = recording_journal_begin(r->st, &spec);
  if (!rec->journal) {
    free(rec);
    ps_refuse(why, PS_E_INTERNAL, "the recording journal cannot be written");
    return NULL;
  }
  hmap_put(r->recs, rec->id, strlen(rec->id), rec);
  r->n.started++;
  media_engine_start_feed_recording(r->media, &rec->where, rec->id,
                                    recording_journal_path(rec->journal), f->audio_stream,
                                    f->video_stream);
  log_info("pubsub", "session %s of %s: recording feed %s of %s as %s", s->sid, s->cid,
           f->id, f->owner->uid, rec->id);
  return rec;
}

static void stop(ps_recorder *r, ps_rec *rec);

static bool has_placeholder(const char *url) {
  return strstr(url, "{rec_id}") || strstr(url, "{feed_id}");
}

int ps_record_start(ps_participant *p, const char *const *feed_ids, size_t n,
                    const char *upload_url, const char *webhook_url, json_t **out,
                    refusal *why) {
  ps_session *s = session_of(p);
  ps_recorder *r = s->core->recorder;
  if (!r || !s->core->media)
    return ps_refuse(why, PS_E_INTERNAL, "recording is not available on this server");
  if (!p->who.can_record)
    return ps_refuse(why, PS_E_FORBIDDEN,
                     "these credentials may not record (the key's recording scope, or "
                     "the token's can_record)");
  if (webhook_url && *webhook_url && !check_url(r, true, webhook_url, why))
    return -1;
  ps_feed *feeds[MAX_FEEDS_LISTED];
  size_t count = 0;
  if (n == 0) {
    list_node *pos, *tmp;
    list_for_each_safe(pos, tmp, &s->all_feeds) {
      if (count < MAX_FEEDS_LISTED)
        feeds[count++] = list_entry(pos, ps_feed, node);
    }
    if (count == 0)
      return ps_refuse(why, PS_E_NOT_FOUND, "session %s has no feed to record", s->sid);
  } else {
    for (size_t i = 0; i < n && count < MAX_FEEDS_LISTED; i++) {
      ps_feed *f = hmap_get(s->feeds, feed_ids[i], strlen(feed_ids[i]));
      if (!f)
        return ps_refuse(why, PS_E_NOT_FOUND, "no feed \"%s\" in session %s", feed_ids[i],
                         s->sid);
      feeds[count++] = f;
    }
  }
  size_t fresh = 0;
  for (size_t i = 0; i < count; i++) {
    if (!feeds[i]->owner->pub)
      return ps_refuse(why, PS_E_NOT_FOUND, "feed \"%s\" has no media yet", feeds[i]->id);
    fresh += running_for(r, s->cid, s->sid, feeds[i]->id) == NULL;
  }
  if (fresh > 1 && !has_placeholder(upload_url))
    return ps_refuse(why, PS_E_BAD_REQUEST,
                     "each file needs its own upload URL: put {rec_id} or {feed_id} in "
                     "upload_url to record %zu feeds",
                     fresh);
  if (open_in(r, s->cid, s->sid) + fresh > (size_t)r->max_per_session)
    return ps_refuse(why, PS_E_LIMIT, "a session may have %d recordings running",
                     r->max_per_session);
  json_t *list = json_array();
  ps_rec *begun[MAX_FEEDS_LISTED];
  size_t n_begun = 0;
  for (size_t i = 0; i < count; i++) {
    ps_rec *rec = running_for(r, s->cid, s->sid, feeds[i]->id);
    if (!rec && (rec = begin(r, p, feeds[i], upload_url, webhook_url, why)))
      begun[n_begun++] = rec;
    if (!rec) { /* nothing of this request goes on: those begun are stopped */
      for (size_t k = 0; k < n_begun; k++)
        stop(r, begun[k]);
      json_decref(list);
      return -1;
    }
    json_array_append_new(
        list, json_pack("{s:s, s:s}", "rec_id", rec->id, "feed_id", rec->feed_id));
  }
  *out = json_pack("{s:o}", "recordings", list);
  return 0;
}

/* ---- stop ----------------------------------------------------------------------- */

static void stop(ps_recorder *r, ps_rec *rec) {
  if (rec->stopping)
    return;
  rec->stopping = true;
  media_engine_stop_feed_recording(r->media, &rec->where, rec->id);
}

int ps_record_stop(ps_participant *p, const char *const *rec_ids, size_t n,
                   refusal *why) {
  ps_session *s = session_of(p);
  ps_recorder *r = s->core->recorder;
  if (!r)
    return ps_refuse(why, PS_E_INTERNAL, "recording is not available on this server");
  if (!p->who.can_record)
    return ps_refuse(why, PS_E_FORBIDDEN,
                     "these credentials may not record (the key's recording scope, or "
                     "the token's can_record)");
  for (size_t i = 0; i < n; i++) {
    ps_rec *rec = hmap_get(r->recs, rec_ids[i], strlen(rec_ids[i]));
    if (!rec || rec->stopping || strcmp(rec->cid, s->cid) != 0 ||
        strcmp(rec->sid, s->sid) != 0)
      return ps_refuse(why, PS_E_NOT_FOUND, "no recording \"%s\" running in session %s",
                       rec_ids[i], s->sid);
  }
  if (n > 0) {
    for (size_t i = 0; i < n; i++)
      stop(r, hmap_get(r->recs, rec_ids[i], strlen(rec_ids[i])));
    return 0;
  }
  size_t pos = 0;
  ps_rec *rec;
  while ((rec = hmap_next(r->recs, &pos)))
    if (strcmp(rec->cid, s->cid) == 0 && strcmp(rec->sid, s->sid) == 0)
      stop(r, rec);
  return 0;
}

void ps_recording_feed_gone(ps_core *core, const char *cid, const char *sid,
                            const char *feed_id) {
  ps_recorder *r = core->recorder;
  if (!r)
    return;
  size_t pos = 0;
  ps_rec *rec;
  while ((rec = hmap_next(r->recs, &pos)))
    if (strcmp(rec->feed_id, feed_id) == 0 && strcmp(rec->sid, sid) == 0 &&
        strcmp(rec->cid, cid) == 0)
      stop(r, rec);
}

/* ---- media events --------------------------------------------------------------- */

static void maybe_done(ps_recorder *r);

static void on_closed(ps_recorder *r, ps_rec *rec, const media_event *ev) {
  hmap_remove(r->recs, rec->id, strlen(rec->id));
  const media_recording *m = &ev->recording;
  if (!m->ok)
    r->n.failed++;
  json_t *data = json_pack("{s:s, s:s, s:b, s:I, s:I}", "rec_id", rec->id, "feed_id",
                           rec->feed_id, "ok", m->ok, "bytes", (json_int_t)m->size_bytes,
                           "duration_ms", (json_int_t)m->duration_ms);
  if (!m->ok)
    json_object_set_new(data, "reason", json_string(ev->text));
  tell_session(r, rec, "recording_stopped", data);
  recording_outcome how = {.ok = m->ok,
                           .error = ev->text,
                           .size_bytes = m->size_bytes,
                           .duration_ms = m->duration_ms,
                           .first_frame_unix_ms = m->first_frame_unix_ms,
                           .stopped_unix_ms = m->stopped_unix_ms};
  recording_journal_closed(rec->journal, r->st, r->ob, &how);
  free(rec);
  maybe_done(r);
}

void ps_recording_on_media_event(const media_event *ev, void *ud) {
  ps_recorder *r = ud;
  if (ev->kind != MEDIA_EVENT_RECORDING_STARTED &&
      ev->kind != MEDIA_EVENT_RECORDING_CLOSED)
    return;
  ps_rec *rec = hmap_get(r->recs, ev->rec_id, strlen(ev->rec_id));
  if (!rec)
    return; /* RTM's */
  if (ev->kind == MEDIA_EVENT_RECORDING_CLOSED)
    return on_closed(r, rec, ev);
  if (rec->started)
    return;
  rec->started = true;
  recording_journal_first_frame(rec->journal, ev->first_frame_ms);
  tell_session(r, rec, "recording_started",
               json_pack("{s:s, s:s}", "rec_id", rec->id, "feed_id", rec->feed_id));
}

/* ---- shutdown ------------------------------------------------------------------- */

static void on_grace_closed(uv_handle_t *h) { free(h); }

static void finish_shutdown(ps_recorder *r) {
  if (r->grace) {
    uv_close((uv_handle_t *)r->grace, on_grace_closed);
    r->grace = NULL;
  }
  void (*done)(void *) = r->done;
  r->done = NULL;
  if (done)
    done(r->done_ud);
}

static void maybe_done(ps_recorder *r) {
  if (r->done && hmap_count(r->recs) == 0)
    finish_shutdown(r);
}

static void on_grace(uv_timer_t *t) {
  ps_recorder *r = t->data;
  log_warn("pubsub",
           "%zu recordings not closed in time; crash recovery takes them at "
           "the next start",
           hmap_count(r->recs));
  finish_shutdown(r);
}

void ps_recorder_shutdown(ps_recorder *r, uint64_t grace_ms, void (*done)(void *ud),
                          void *ud) {
  if (r->core)
    r->core->recorder = NULL;
  r->core = NULL;
  r->done = done;
  r->done_ud = ud;
  size_t pos = 0;
  ps_rec *rec;
  while ((rec = hmap_next(r->recs, &pos)))
    stop(r, rec);
  if (hmap_count(r->recs) == 0)
    return finish_shutdown(r);
  r->grace = xcalloc(1, sizeof *r->grace);
  uv_timer_init(r->loop, r->grace);
  r->grace->data = r;
  uv_timer_start(r->grace, on_grace, grace_ms, 0);
}

void ps_recorder_free(ps_recorder *r) {
  if (!r)
    return;
  if (r->core)
    r->core->recorder = NULL;
  size_t pos = 0;
  ps_rec *rec;
  while ((pos = 0, rec = hmap_next(r->recs, &pos))) {
    hmap_remove(r->recs, rec->id, strlen(rec->id));
    recording_journal_abandon(rec->journal); /* crash recovery finalises it */
    free(rec);
  }
  hmap_free(r->recs);
  free(r);
}
