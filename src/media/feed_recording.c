/* feed_recording — a publish call's feeds to their recorders through its feed_tap. */
#include "media/feed_recording.h"

#include "core/log.h"
#include "core/mem.h"
#include "media/media_loop.h"
#include "media/recording_router.h"

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
  /* Simulcast: the layer recorded (-1 before its first keyframe), and the one wanted
   * first (the top rid). Switching layers rewrites sequence numbers, timestamps and
   * SSRC so the recorder sees one continuous stream. */
  int layer, target;
  uint64_t started_ms, last_ask_ms, last_video_ms;
  bool rewriting;
  uint16_t seq_delta, last_seq;
  uint32_t ts_delta, last_ts;
} feed_rec;

/* Before the first video keyframe the file waits for the keyframe of the best layer
 * sending (asked for; audio is kept meanwhile), and after this long takes any layer's. */
#define TOP_LAYER_WAIT_MS 4000

/* What s->feed_tap_ud holds: the open recording of each stream. */
typedef struct {
  feed_rec *by_stream[STREAM_COUNT];
} feed_set;

static atomic_size_t n_open;

size_t feed_recording_open(void) { return atomic_load(&n_open); }

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

/* Whether layer a of st is a better picture than layer b: taller when both sizes are
 * known, else the later rid (browsers list layers smallest first). */
static bool better(session_stream *st, int a, int b) {
  int ha = session_layer(st, a)->height, hb = session_layer(st, b)->height;
  return ha && hb ? ha > hb : a > b;
}

/* The best layer sending now (a packet in the last second), else fallback: a browser
 * leaves its top layers off while its estimate is low or the camera small. */
static int best_flowing(session_stream *st, int fallback, uint64_t now) {
  int best = -1;
  for (int i = 0; i < st->n_layers; i++) {
    session_pub *p = session_layer(st, i);
    if (p->last_ms && now - p->last_ms < 1000 && (best < 0 || better(st, i, best)))
      best = i;
  }
  return best < 0 ? fallback : best;
}

/* The layer a recording wants: the tallest seen, else the last rid. */
static int top_layer(session_stream *st) {
  int best = st->n_layers > 0 ? st->n_layers - 1 : 0;
  for (int i = 0; i < st->n_layers; i++)
    if (better(st, i, best))
      best = i;
  return best;
}

static void ask_layer_keyframe(feed_rec *r, int layer, uint64_t now) {
  media_session *s = r->s;
  if (!s || r->video < 0 || !s->transport->srtp_ready)
    return;
  session_stream *st = &s->streams[r->video];
  r->last_ask_ms = now;
  if (st->n_layers > 1)
    session_request_layer_keyframe(s, session_layer(st, layer), now);
  else
    session_request_keyframe(s, st, now);
}

/* The recorder waits for a keyframe: of the layer recorded, or before the first one of
 * the best layer sending now. The target (the tallest rid) may never be sent at all (a
 * small camera, a low estimate), and asking it would also hold back take_layer's own
 * asks for a second each time. */
static void ask_keyframe(feed_rec *r) {
  if (!r->s)
    return;
  uint64_t now = uv_now(r->s->transport->loop);
  int layer = r->layer;
  if (layer < 0 && r->video >= 0)
    layer = best_flowing(&r->s->streams[r->video], r->target, now);
  ask_layer_keyframe(r, layer, now);
}

/* Whether a video packet of `layer` is recorded; a keyframe of a better layer (or of any
 * layer when the recorded one has stopped) switches to it. */
static bool take_layer(feed_rec *r, session_stream *st, int layer, const uint8_t *pkt,
                       const rtp_header *h, uint64_t now) {
  if (st->n_layers <= 1 || layer == r->layer)
    return layer == r->layer || r->layer < 0 ? (r->layer = layer, true) : false;
  bool wanted;
  if (r->layer < 0)
    wanted = layer == best_flowing(st, r->target, now) ||
             now - r->started_ms >= TOP_LAYER_WAIT_MS;
  else
    wanted = better(st, layer, r->layer) ||
             now - session_layer(st, r->layer)->last_ms > 1000; /* it stopped */
  if (!wanted)
    return false;
  if (!rtp_is_keyframe_start(pkt, h, st->codec)) {
    if (now - r->last_ask_ms >= 1000)
      ask_layer_keyframe(r, layer, now);
    return false;
  }
  if (r->layer >= 0)
    log_info("media", "call %s: recording %s switches to layer %d", r->call_uuid,
             r->rec_id, layer);
  r->layer = layer;
  r->rewriting = false; /* the new layer's numbers are joined onto the old ones */
  return true;
}

/* The packet as the recorder sees it: one SSRC, sequence numbers and timestamps running
 * on across layer switches (the gap in time kept). */
static void record_video(feed_rec *r, const uint8_t *pkt, size_t len, const rtp_header *h,
                         uint64_t now) {
  uint8_t copy[2048];
  if (len > sizeof copy || len < 12)
    return;
  if (!r->rewriting) {
    r->rewriting = true;
    if (r->last_video_ms) {
      r->seq_delta = (uint16_t)(r->last_seq + 1 - h->seq);
      r->ts_delta = r->last_ts + (uint32_t)((now - r->last_video_ms) * 90) - h->timestamp;
    }
  }
  memcpy(copy, pkt, len);
  uint16_t seq = (uint16_t)(h->seq + r->seq_delta);
  uint32_t ts = h->timestamp + r->ts_delta;
  copy[2] = (uint8_t)(seq >> 8), copy[3] = (uint8_t)seq;
  for (int i = 0; i < 4; i++)
    copy[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
  memset(copy + 8, 0x5e, 4); /* one SSRC whatever the layer */
  r->last_seq = seq;
  r->last_ts = ts;
  r->last_video_ms = now;
  recorder_on_rtp(r->rec, true, copy, len);
}

static void on_keyframe_needed(void *ud) { ask_keyframe(ud); }

static void on_closed(void *ud, const recorder_result *res) {
  feed_rec *r = ud;
  media_event ev = recording_closed_event(res);
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
  session_stream *st = &s->streams[stream];
  rtp_header h;
  if (st->choice < 0 || rtp_parse(pkt, len, &h) != 0 ||
      h.payload_type != s->params.agreed.media[st->choice].pt)
    return; /* RTX, DTMF, comfort noise: not recorded */
  if (stream != r->video)
    return recorder_on_rtp(r->rec, false, pkt, len);
  if (take_layer(r, st, layer, pkt, &h, now))
    record_video(r, pkt, len, &h, now);
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
      .video = video_stream >= 0 ? recording_video_codec(&s->streams[video_stream])
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
  r->started_ms = uv_now(s->transport->loop);
  r->layer = -1;
  if (r->video >= 0)
    r->target = top_layer(&s->streams[r->video]);
  if (r->audio >= 0)
    set->by_stream[r->audio] = r;
  if (r->video >= 0)
    set->by_stream[r->video] = r;
  atomic_fetch_add(&n_open, 1);
  recorder_callbacks cb = {on_started, on_keyframe_needed, on_closed};
  r->rec = recorder_open(s->transport->loop, path, &tracks, cb, r);
  ask_keyframe(r);
  log_info("media", "call %s: recording feed (audio %d, video %d layer %d) as %s into %s",
           r->call_uuid, r->audio, r->video, r->target, rec_id, path);
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
