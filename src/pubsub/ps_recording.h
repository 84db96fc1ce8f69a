/* ps_recording — recording per key in publish/subscribe sessions (docs/PUBSUB.md,
 * "Recording"): record_start / record_stop, each feed into its own file on the media
 * loop (media/feed_recording.c), the recording_started / recording_stopped events, and
 * one upload + one webhook per file through src/delivery, as RTM does. */
#ifndef PARLEY_PS_RECORDING_H
#define PARLEY_PS_RECORDING_H

#include "media/engine.h"
#include "pubsub/ps_session.h"
#include "store/db.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct outbox outbox;
typedef struct ps_recorder ps_recorder;

typedef struct {
  uint64_t started, failed; /* since start */
  size_t open;              /* now: from start until the file is closed */
} ps_recording_counters;

/* The recordings of core's sessions go to dir (files), st (journal) and ob (uploads
 * and webhooks); max_per_session open at once (LIMIT beyond). The recorder outlives
 * core: recordings still closing when core is freed are journaled and delivered. */
ps_recorder *ps_recorder_new(ps_core *core, store *st, media_engine *media, outbox *ob,
                             const char *dir, int max_per_session);
/* Stops every open recording; done(ud) once all are closed and handed to the outbox, or
 * after grace_ms. */
void ps_recorder_shutdown(ps_recorder *r, uint64_t grace_ms, void (*done)(void *ud),
                          void *ud);
void ps_recorder_free(ps_recorder *r);
void ps_recorder_counters(const ps_recorder *r, ps_recording_counters *out);

/* record_start: feed_ids (n 0: every feed of the session) each into its own file.
 * upload_url may hold {rec_id}, {feed_id}, {uid} and {sid}, replaced per file; with
 * none of {rec_id} and {feed_id} only one feed may be recorded at a time per request.
 * *out is {recordings: [{rec_id, feed_id}]} (a feed already recorded is listed with its
 * running recording). Refusals: FORBIDDEN (no recording scope / can_record),
 * NOT_FOUND (a feed), BAD_REQUEST (URLs), LIMIT, INTERNAL (the journal). */
int ps_record_start(ps_participant *p, const char *const *feed_ids, size_t n,
                    const char *upload_url, const char *webhook_url, json_t **out,
                    refusal *why);
/* record_stop: rec_ids (n 0: every recording of the session); NOT_FOUND for one that is
 * not running in this session. recording_stopped follows when each file is closed. */
int ps_record_stop(ps_participant *p, const char *const *rec_ids, size_t n, refusal *why);
/* The feed went (unpublished, or its participant left): its recording stops. */
void ps_recording_feed_gone(ps_core *core, const char *cid, const char *sid,
                            const char *feed_id);
/* Media events (parleyd hands every one here): recordings' STARTED and CLOSED. */
void ps_recording_on_media_event(const media_event *ev, void *ud);

#endif
