/* feed_recording — a publish call's feeds to their recorders through its feed_tap. */
#include "media/feed_recording.h"

#include "core/log.h"
#include "core/mem.h"
#include "media/media_loop.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* One recording. It outlives its session while the file is finalised off the loop, so
 * the recorder's callbacks hold this, not the session. */
typedef struct feed_rec {
  recorder *rec;
  void *engine;
  char call_uuid[40], rec_id[40];
  media_session *s; /* NULL once the session has gone or the recording was stopped */
  int audio, video; /* streams, -1 when absent */
  int layer;        /* the simulcast layer recorded */
} feed_rec;

/* What s->feed_tap_ud holds: the open recording of each stream. */
typedef struct {
  feed_rec *by_stream[STREAM_COUNT];
} feed_set;

static atomic_size_t n_open;

size_t feed_recording_open(void) { return atomic_load(&n_open); }

rec_codec feed_recording_codec(const session_stream *st) {
  if (st->choice < 0)
    return REC_CODEC_NONE;
  switch (st->codec) {
  case RTP_CODEC_VP8:
    return REC_CODEC_VP8;
  case RTP_CODEC_VP9:
    return REC_CODEC_VP9;
  case RTP_CODEC_H264:
    return REC_CODEC_H264;
  default:
    return REC_CODEC_NONE;
  }
}

static void post(const char *call_uuid, const char *rec_id, void *engine,
                 media_event *ev) {
  snprintf(ev->call_uuid, sizeof ev->call_uuid, "%s", call_uuid);
  snprintf(ev->rec_id, sizeof ev->rec_id, "%s", rec_id);
  media_loop_post(engine, ev);
}

static void on_started(void *ud, int64_t first_frame_unix_ms) {
  feed_rec *r = ud;
  media_event ev = {.kind = MEDIA_EVENT_RECORDING_STARTED,
                    .first_frame_ms = first_frame_unix_ms};
  post(r->call_uuid, r->rec_id, r->engine, &ev);
}

/* The highest layer of a (simulcast) video stream: the tallest keyframe seen lately,
 * else the last rid (the SDK and browsers list layers smallest first). */
static int highest_layer(session_stream *st, uint64_t now) {
  int best = st->n_layers > 0 ? st->n_layers - 1 : 0, best_h = 0;
  for (int i = 0; i < st->n_layers; i++) {
    session_pub *p = session_layer(st, i);
    if (p->height > best_h && p->last_ms && now - p->last_ms < 1000) {
      best = i;
      best_h = p->height;
    }
  }
  return best;
}

static void ask_keyframe(feed_rec *r) {
  media_session *s = r->s;
  if (!s || r->video < 0 || !s->transport->srtp_ready)
    return;
  session_stream *st = &s->streams[r->video];
  uint64_t now = uv_now(s->transport->loop);
  if (st->n_layers > 1)
    session_request_layer_keyframe(s, session_layer(st, r->layer), now);
  else
    session_request_keyframe(s, st, now);
}

static void on_keyframe_needed(void *ud) { ask_keyframe(ud); }

static void on_closed(void *ud, const recorder_result *res) {
  feed_rec *r = ud;
  media_event ev = {.kind = MEDIA_EVENT_RECORDING_CLOSED,
                    .recording = {.ok = res->ok,
                                  .size_bytes = res->size_bytes,
                                  .duration_ms = res->duration_ms,
                                  .first_frame_unix_ms = res->first_frame_unix_ms,
                                  .stopped_unix_ms = res->stopped_unix_ms}};
  snprintf(ev.text, sizeof ev.text, "%s", res->ok ? "" : res->error);
  post(r->call_uuid, r->rec_id, r->engine, &ev);
  atomic_fetch_sub(&n_open, 1);
  free(r);
}

static void tap(media_session *s, int stream, int layer, const uint8_t *pkt, size_t len,
                uint64_t now) {
  (void)now;
  feed_set *set = s->feed_tap_ud;
  if (stream < 0 || stream >= STREAM_COUNT || !set->by_stream[stream])
    return;
  feed_rec *r = set->by_stream[stream];
  bool video = stream == r->video;
  if (video && layer != r->layer)
    return;
  session_stream *st = &s->streams[stream];
  rtp_header h;
  if (st->choice < 0 || rtp_parse(pkt, len, &h) != 0 ||
      h.payload_type != s->params.agreed.media[st->choice].pt)
    return; /* RTX, DTMF, comfort noise: not recorded */
  recorder_on_rtp(r->rec, video, pkt, len);
}

static void closed_at_once(media_session *s, const char *rec_id, const char *why) {
  media_event ev = {.kind = MEDIA_EVENT_RECORDING_CLOSED};
  snprintf(ev.text, sizeof ev.text, "%s", why);
  post(s->params.call_uuid, rec_id, s->engine, &ev);
}

void feed_recording_start(media_session *s, const char *rec_id, const char *path,
                          int audio_stream, int video_stream) {
  if (audio_stream >= STREAM_COUNT || video_stream >= STREAM_COUNT ||
      (audio_stream >= 0 && audio_stream == video_stream))
    return closed_at_once(s, rec_id, "no such stream");
  if (s->feed_tap && s->feed_tap != tap)
    return closed_at_once(s, rec_id, "the call's media is tapped by another recorder");
  feed_set *set = s->feed_tap_ud;
  if (!set) {
    set = xcalloc(1, sizeof *set);
    s->feed_tap_ud = set;
    s->feed_tap = tap;
  }
  if ((audio_stream >= 0 && set->by_stream[audio_stream]) ||
      (video_stream >= 0 && set->by_stream[video_stream]))
    return closed_at_once(s, rec_id, "this feed is being recorded already");
  recorder_tracks tracks = {
      .audio = audio_stream >= 0 && s->streams[audio_stream].choice >= 0 ? REC_CODEC_OPUS
                                                                         : REC_CODEC_NONE,
      .video = video_stream >= 0 ? feed_recording_codec(&s->streams[video_stream])
                                 : REC_CODEC_NONE,
      .audio_clock = 48000,
      .video_clock = 90000,
      .audio_channels = 2};
  if (tracks.audio == REC_CODEC_NONE && tracks.video == REC_CODEC_NONE)
    return closed_at_once(s, rec_id, "the feed has no stream that can be recorded");
  feed_rec *r = xcalloc(1, sizeof *r);
  r->engine = s->engine;
  r->s = s;
  snprintf(r->call_uuid, sizeof r->call_uuid, "%s", s->params.call_uuid);
  snprintf(r->rec_id, sizeof r->rec_id, "%s", rec_id);
  r->audio = tracks.audio != REC_CODEC_NONE ? audio_stream : -1;
  r->video = tracks.video != REC_CODEC_NONE ? video_stream : -1;
  uint64_t now = uv_now(s->transport->loop);
  if (r->video >= 0)
    r->layer = highest_layer(&s->streams[r->video], now);
  if (r->audio >= 0)
    set->by_stream[r->audio] = r;
  if (r->video >= 0)
    set->by_stream[r->video] = r;
  atomic_fetch_add(&n_open, 1);
  recorder_callbacks cb = {on_started, on_keyframe_needed, on_closed};
  r->rec = recorder_open(s->transport->loop, path, &tracks, cb, r);
  ask_keyframe(r);
  log_info("media", "call %s: recording feed (audio %d, video %d layer %d) as %s into %s",
           r->call_uuid, r->audio, r->video, r->layer, rec_id, path);
}

static void close_one(feed_set *set, feed_rec *r) {
  for (int i = 0; i < STREAM_COUNT; i++)
    if (set->by_stream[i] == r)
      set->by_stream[i] = NULL;
  r->s = NULL; /* it frees itself once the file is closed */
  recorder_close(r->rec);
}

void feed_recording_stop(media_session *s, const char *rec_id) {
  feed_set *set = s->feed_tap == tap ? s->feed_tap_ud : NULL;
  if (!set)
    return;
  for (int i = 0; i < STREAM_COUNT; i++) {
    feed_rec *r = set->by_stream[i];
    if (r && (!rec_id || strcmp(r->rec_id, rec_id) == 0))
      close_one(set, r);
  }
}

void feed_recording_leave(media_session *s) {
  if (s->feed_tap != tap)
    return;
  feed_recording_stop(s, NULL);
  free(s->feed_tap_ud);
  s->feed_tap_ud = NULL;
  s->feed_tap = NULL;
}
