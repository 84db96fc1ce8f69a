/* feed_router — one pub/sub session's router: feeds to subscribe m-lines, speaker. */
#include "media/feed_router.h"

#include "core/mem.h"
#include "media/feed_data.h"
#include "media/session_bwe.h"
#include "media/speaker_hold.h"
#include "media/video_slots.h"

#include <stdlib.h>
#include <string.h>

#define REPORT_INTERVAL_MS 1000
#define PUBLISHER_MAX_BITRATE 2000000 /* REMB: a camera and a screen */
#define SIMULCAST_MAX_BITRATE 3500000 /* three layers (720p, 360p, 180p) and a screen */
#define SPEAKER_HOLD_TICKS 25         /* 500 ms as the loudest before `speaker` */
#define VOICE_RECENT_MS 300           /* no audible level for this long: silent */
#define SPEAKER_MIN_LEVEL 70          /* -70 dBov or quieter never speaks */

struct feed_room {
  int64_t key;
  media_session **sessions;
  size_t n, cap;
  uint64_t now, last_layers_ms;
  bool dirty;        /* a publisher or a track changed: sources are found again */
  bool dirty_layers; /* sizes, hints or the estimate changed: layers chosen again */
  media_session *speaker;
  speaker_hold hold; /* who is about to become the speaker */
};

feed_room *feed_room_new(int64_t key) {
  feed_room *r = xcalloc(1, sizeof *r);
  r->key = key;
  return r;
}

void feed_room_free(feed_room *r) {
  free(r->sessions);
  free(r);
}

size_t feed_room_size(const feed_room *r) { return r->n; }
const int64_t *feed_room_key(const feed_room *r) { return &r->key; }
media_session *const *feed_room_members(const feed_room *r, size_t *n) {
  *n = r->n;
  return r->sessions;
}

static bool is_sub(const media_session *s) { return s->params.mode == MEDIA_PUBSUB_SUB; }

static media_session *publisher(feed_room *r, const char *call_uuid) {
  if (!call_uuid[0])
    return NULL;
  for (size_t i = 0; i < r->n; i++)
    if (!is_sub(r->sessions[i]) &&
        strcmp(r->sessions[i]->params.call_uuid, call_uuid) == 0)
      return r->sessions[i];
  return NULL;
}

/* Each subscribe m-line's source is its track's publish call, when that is here. */
static void retarget(feed_room *r) {
  r->dirty = false;
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    for (int k = 0; k < rx->n_slots; k++) {
      video_slot *sl = &rx->slots[k];
      const media_track *t = &rx->params.tracks[k];
      bool live = k < rx->n_slot_out && rx->slot_out[k].choice >= 0;
      media_session *src = live ? publisher(r, t->src_call) : NULL;
      if (src && src->streams[sl->src].choice < 0)
        src = NULL; /* that stream is not published (yet, or any more) */
      if (src == sl->want)
        continue;
      sl->want = src;
      sl->want_layer = sl->src == STREAM_AUDIO && src ? 0 : -1;
      sl->up_since_ms = 0;
      if (sl->from != src)
        sl->from = sl->src == STREAM_AUDIO ? src : NULL;
    }
  }
  video_slots_settle(r->sessions, r->n, r->now);
}

/* A subscribe call's slots, one per m-line; a track that keeps its source keeps its
 * slot (numbering, layer), any other starts afresh. */
static void make_slots(media_session *s) {
  uint8_t n = s->params.n_tracks;
  video_slot *slots = n ? xcalloc(n, sizeof *slots) : NULL;
  for (int i = 0; i < n; i++) {
    const media_track *t = &s->params.tracks[i];
    int8_t src =
        t->src_stream >= 0 && t->src_stream < STREAM_COUNT ? t->src_stream : STREAM_VIDEO;
    if (i < s->n_slots && s->slots[i].src == src && t->src_call[0]) {
      slots[i] = s->slots[i];
    } else {
      video_slot_init(&slots[i], src, (int8_t)i);
      slots[i].pausable = true;
    }
    slots[i].hint_w = t->hint_w;
    slots[i].hint_h = t->hint_h;
  }
  free(s->slots);
  s->slots = slots;
  s->n_slots = n;
}

static void forward_audio(media_session *s, const uint8_t *pkt, size_t len,
                          const rtp_header *h, uint64_t now) {
  for (size_t w = 0; w < s->n_watch; w++) {
    media_session *rx = s->watch[w].rx;
    video_slot *sl = &rx->slots[s->watch[w].slot];
    if (sl->src != STREAM_AUDIO || sl->want != s)
      continue;
    if (!rx->receiving) { /* its first packet: video's first keyframes go first */
      if (!video_slots_ready(rx))
        continue;
      video_slots_first_ready(rx, now);
    }
    session_forward(rx, video_slot_out(rx, sl), &sl->rn, &s->streams[STREAM_AUDIO], pkt,
                    len, h, now);
  }
}

static void on_audio(media_session *s, const uint8_t *pkt, size_t len,
                     const rtp_header *h, uint64_t now) {
  const sdp_choice *ch = &s->params.agreed.media[s->streams[STREAM_AUDIO].choice];
  if (h->payload_type != ch->pt)
    return; /* DTMF and comfort noise are not forwarded */
  int level;
  bool voice;
  if (ch->ext_audio_level &&
      rtp_audio_level(pkt, h, ch->ext_audio_level, &level, &voice) == 0) {
    (void)voice; /* Chromium's VAD calls a steady tone no voice: the level decides */
    s->audio_level = (s->audio_level * 3 + level) / 4; /* ~4 packets: 80 ms */
    if (s->audio_level <= SPEAKER_MIN_LEVEL)
      s->last_voice_ms = now;
  }
  forward_audio(s, pkt, len, h, now);
}

static void on_rtp(transport *t, uint8_t *pkt, size_t len, const rtp_header *h,
                   void *ud) {
  media_session *s = ud;
  if (is_sub(s))
    return; /* a subscriber sends nothing we use */
  bool repair;
  int layer;
  session_stream *st = session_stream_for_layer(s, pkt, h, &repair, &layer);
  if (!st || repair)
    return;
  uint64_t now = uv_now(t->loop);
  session_pub *p = session_layer(st, layer);
  bool first = !p->started;
  int stream = (int)(st - s->streams);
  session_count_layer(p, h, len, stream == STREAM_AUDIO ? 48000 : 90000, now);
  if (s->feed_tap)
    s->feed_tap(s, stream, layer, pkt, len, now);
  if (stream == STREAM_AUDIO)
    return on_audio(s, pkt, len, h, now);
  if (h->payload_type != s->params.agreed.media[st->choice].pt)
    return;
  if (first)
    s->feeds->dirty = true; /* a new stream (or layer) to place */
  if (video_slots_on_video(s, st, layer, pkt, len, h, first, now))
    s->feeds->dirty_layers = true;
}

static void on_rtcp(transport *t, const rtcp_item *item, void *ud) {
  media_session *rx = ud;
  uint64_t now = uv_now(t->loop);
  if (item->kind == RTCP_SR)
    return session_note_sender_report(rx, item, now);
  if (!is_sub(rx))
    return;
  if (!rx->receiving && video_slots_ready(rx))
    video_slots_first_ready(rx, now);
  session_stream *ours = session_stream_by_local_ssrc(rx, item->media_ssrc);
  if (!ours || !rx->slot_out || ours < rx->slot_out ||
      ours >= rx->slot_out + rx->n_slot_out)
    return;
  int i = (int)(ours - rx->slot_out);
  if (i >= rx->n_slots || rx->slots[i].src == STREAM_AUDIO)
    return;
  /* A hole we cannot fill is mended by a keyframe now (as the conference does). */
  if (item->kind == RTCP_NACK && session_answer_nack(rx, ours, item, now) == 0)
    return;
  if (item->kind == RTCP_NACK || item->kind == RTCP_PLI || item->kind == RTCP_FIR)
    video_slot_keyframe_request(&rx->slots[i], now);
}

static void on_connected(transport *t, void *ud) {
  media_session *s = ud;
  s->connected_ms = uv_now(t->loop);
  session_on_connected(t, ud);
  if (is_sub(s) && video_slots_ready(s))
    video_slots_first_ready(s, s->connected_ms);
}

transport_sink feed_router_join(feed_room *r, media_session *s) {
  session_init(s);
  s->feeds = r;
  s->audio_level = 127;
  if (is_sub(s))
    make_slots(s);
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 8;
    r->sessions = xrealloc(r->sessions, r->cap * sizeof *r->sessions);
  }
  r->sessions[r->n++] = s;
  r->now = uv_now(s->transport->loop);
  retarget(r);
  if (is_sub(s))
    video_slots_prefetch(s, r->now);
  else
    feed_data_update(s);
  return (transport_sink){on_connected, on_rtp, on_rtcp, session_on_failed};
}

void feed_router_leave(feed_room *r, media_session *s) {
  for (size_t i = 0; i < r->n; i++)
    if (r->sessions[i] == s)
      r->sessions[i] = r->sessions[--r->n];
  video_slots_forget(r->sessions, r->n, s);
  if (r->speaker == s)
    r->speaker = NULL;
  speaker_hold_forget(&r->hold, s);
  free(s->slots);
  s->slots = NULL;
  s->n_slots = 0;
  free(s->watch);
  s->watch = NULL;
  s->n_watch = s->cap_watch = 0;
  s->feeds = NULL;
  feed_data_leave(s);
  retarget(r);
}

void feed_router_update(media_session *s) {
  if (is_sub(s))
    make_slots(s);
  else
    feed_data_update(s);
  s->feeds->dirty = true;
  retarget(s->feeds);
}

void feed_router_set_hints(media_session *s, const media_call *call) {
  for (int i = 0; i < s->n_slots && i < call->n_tracks; i++) {
    s->params.tracks[i].hint_w = s->slots[i].hint_w = call->tracks[i].hint_w;
    s->params.tracks[i].hint_h = s->slots[i].hint_h = call->tracks[i].hint_h;
  }
  if (s->feeds)
    s->feeds->dirty_layers = true;
}

/* The loudest publisher with voice becomes the speaker after holding that place for
 * SPEAKER_HOLD_TICKS; its call hears MEDIA_EVENT_SPEAKER (the control loop says
 * `speaker {uid}` to the session). */
static void follow_speaker(feed_room *r, uint64_t now) {
  media_session *loudest = NULL;
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (is_sub(s) || !s->last_voice_ms || now - s->last_voice_ms > VOICE_RECENT_MS ||
        s->audio_level > SPEAKER_MIN_LEVEL)
      continue;
    if (!loudest || s->audio_level < loudest->audio_level)
      loudest = s;
  }
  if (!speaker_hold_step(&r->hold, loudest, r->speaker, SPEAKER_HOLD_TICKS))
    return;
  r->speaker = loudest;
  loudest->post(loudest, MEDIA_EVENT_SPEAKER, "");
}

void feed_room_tick(feed_room *r, uint64_t now) {
  r->now = now;
  follow_speaker(r, now);
  if (now - r->last_layers_ms >= VIDEO_SLOTS_LAYER_INTERVAL_MS) {
    for (size_t i = 0; i < r->n && r->last_layers_ms; i++)
      if (!is_sub(r->sessions[i]))
        video_slots_read_meters(r->sessions[i], now - r->last_layers_ms);
    r->last_layers_ms = now;
    r->dirty_layers = true;
  }
  for (size_t i = 0; i < r->n && !r->dirty_layers; i++) {
    /* An estimate that fell (congestion) is acted on at once, not at the next interval.
     */
    uint64_t est = session_send_estimate_bps(r->sessions[i]);
    r->dirty_layers = est && est < r->sessions[i]->layer_budget_bps / 100 * 85;
  }
  if (r->dirty)
    retarget(r);
  else if (r->dirty_layers)
    video_slots_settle(r->sessions, r->n, now);
  r->dirty_layers = false;
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (is_sub(s) && !s->receiving && video_slots_ready(s))
      video_slots_first_ready(s, now);
    if (is_sub(s) || !s->transport->srtp_ready ||
        now - s->last_rtcp_ms < REPORT_INTERVAL_MS)
      continue;
    s->last_rtcp_ms = now;
    session_send_receiver_report(s, now,
                                 s->streams[STREAM_VIDEO].n_layers > 1
                                     ? SIMULCAST_MAX_BITRATE
                                     : PUBLISHER_MAX_BITRATE);
  }
}
