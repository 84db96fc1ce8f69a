/* conference — one room's router: mixed audio, active-speaker video, speaker changes. */
#include "media/conference.h"

#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/media_loop.h"
#include "media/mixer.h"
#include "media/session_bwe.h"
#include "media/speaker_hold.h"
#include "media/tiles.h"
#include "media/video_slots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPEAKER_HOLD_TICKS 25 /* 500 ms as the loudest before the stage changes */
#define AUDIO_FRAME_TICKS 960 /* 20 ms at 48 kHz */
#define REPORT_INTERVAL_MS 1000
/* The rate REMB lets a participant send: one camera plus slides at conference quality. */
#define PUBLISHER_MAX_BITRATE 2000000
/* A simulcast publisher's three layers (720p, 360p, 180p) need about 2.5 Mbit/s. */
#define SIMULCAST_MAX_BITRATE 3500000
#define LAYER_INTERVAL_MS VIDEO_SLOTS_LAYER_INTERVAL_MS

struct media_room {
  int64_t key;
  mixer *mixer;
  media_session **sessions;
  size_t n, cap;
  media_session *speaker, *previous; /* whose video is shown */
  speaker_hold hold;                 /* who is about to become the speaker */
  uint64_t now;
  uint64_t joins; /* join order */
  uint64_t last_layers_ms;
  bool dirty;        /* a new publisher: sources are chosen again */
  bool dirty_layers; /* a layer's size changed: layers are chosen again */
};

media_room *media_room_new(int64_t key) {
  media_room *r = xcalloc(1, sizeof *r);
  r->key = key;
  r->mixer = mixer_new();
  return r;
}

void media_room_free(media_room *r) {
  mixer_free(r->mixer);
  free(r->sessions);
  free(r);
}

size_t media_room_size(const media_room *r) { return r->n; }
const int64_t *media_room_key(const media_room *r) { return &r->key; }

/* Its camera's SSRC is known (signalled, or learned from a packet, per layer). */
static bool video_known(const session_stream *st) {
  for (int l = 0; l < st->n_layers; l++)
    if (session_layer((session_stream *)st, l)->ssrc)
      return true;
  return false;
}

static bool publishes_video(const media_session *s) {
  return s->params.present == 0 && s->streams[STREAM_VIDEO].choice >= 0 &&
         video_known(&s->streams[STREAM_VIDEO]) && !s->params.video_muted &&
         !s->video_stalled;
}

/* Sources whose video stopped (or came back) are placed again. */
static void note_stalls(media_room *r, uint64_t now) {
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    bool stalled = s->streams[STREAM_VIDEO].choice >= 0 &&
                   !video_slots_flowing(&s->streams[STREAM_VIDEO], now);
    if (stalled != s->video_stalled) {
      s->video_stalled = stalled;
      r->dirty = true;
    }
  }
}

/* In a lecture a guest sees hosts only; everyone else may be seen by anyone. */
static bool visible_to(const media_session *s, const media_session *receiver) {
  return !s->params.lecture || receiver->params.host || s->params.host;
}

static media_session *spotlighted(media_room *r, media_session *receiver) {
  media_session *best = NULL;
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (s != receiver && s->params.spotlight > 0 && publishes_video(s) &&
        visible_to(s, receiver) &&
        (!best || s->params.spotlight < best->params.spotlight))
      best = s;
  }
  return best;
}

/* Whom receiver sees: a spotlighted participant (the earliest pinned); else the
 * speaker, and the speaker sees the previous one; before anyone has spoken, the
 * first other participant who sends video. Video-muted participants are skipped. */
static bool multistream(const media_session *s) { return s->n_slots >= 2; }

static media_session *video_target(media_room *r, media_session *receiver) {
  media_session *pinned = spotlighted(r, receiver);
  if (pinned)
    return pinned;
  media_session *t = r->speaker == receiver ? r->previous : r->speaker;
  if (t && t != receiver && publishes_video(t) && visible_to(t, receiver))
    return t;
  if (r->previous && r->previous != receiver && publishes_video(r->previous) &&
      visible_to(r->previous, receiver))
    return r->previous;
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (s != receiver && publishes_video(s) && visible_to(s, receiver))
      return s;
  }
  return NULL;
}

/* Last-N: the room's other visible video publishers in tiles_order, the first k
 * assigned to the k slots, stickily. A slot whose source is dropped stops at once. */
static void assign_multi(media_room *r, media_session *rx) {
  tile_candidate *c = xcalloc(r->n ? r->n : 1, sizeof *c);
  size_t n = 0;
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (s != rx && publishes_video(s) && visible_to(s, rx))
      c[n++] = (tile_candidate){s, s->params.spotlight, s->last_spoke_ms, s->join_seq};
  }
  tiles_order(c, n);
  const void *selected[SDP_MAX_SLOTS], *slots[SDP_MAX_SLOTS];
  size_t m = n < rx->n_slots ? n : rx->n_slots;
  for (size_t i = 0; i < m; i++)
    selected[i] = c[i].id;
  free(c);
  for (int i = 0; i < rx->n_slots; i++)
    slots[i] = rx->slots[i].want;
  tiles_assign(slots, rx->n_slots, selected, m);
  for (int i = 0; i < rx->n_slots; i++) {
    video_slot *sl = &rx->slots[i];
    if (slots[i] == sl->want)
      continue;
    sl->want = (media_session *)slots[i];
    sl->want_layer = -1;
    sl->up_since_ms = 0;
    if (sl->from && sl->from != sl->want)
      sl->from = NULL; /* deselected: gone from the slot at once */
  }
}

/* Layers, watch lists, keyframe requests and mappings after a decision; each slot
 * is sized by its call's hints. */
static void settle(media_room *r) {
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    for (int k = 0; k < rx->n_slots && k < SDP_MAX_SLOTS; k++) {
      rx->slots[k].hint_w = rx->params.hint_width[k];
      rx->slots[k].hint_h = rx->params.hint_height[k];
    }
  }
  video_slots_settle(r->sessions, r->n, r->now);
}

/* Receivers move to their new source at its next keyframe, which we ask for: a
 * single-video call follows video_target, a multistream call last-N. */
static void retarget(media_room *r) {
  r->dirty = false;
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    if (multistream(rx))
      assign_multi(r, rx);
    else if (rx->n_slots == 1) {
      media_session *t = video_target(r, rx);
      video_slot *sl = &rx->slots[0];
      if (t != sl->want) {
        sl->want = t;
        sl->want_layer = t && t == sl->from ? sl->layer : -1;
        sl->up_since_ms = 0;
      }
    }
  }
  settle(r);
}

/* Where a session's presentation comes from: a presentation call's video, else the
 * slides m-line of a main call. */
static session_stream *presentation_in(media_session *s) {
  return &s->streams[s->params.present == 1 ? STREAM_VIDEO : STREAM_SLIDES];
}

/* Where a receiver takes a presentation now: a receive-presentation call's video, or
 * the slides m-line of a main call when it receives. */
static session_stream *slides_out(media_session *rx) {
  if (rx->params.present == 2)
    return rx->streams[STREAM_VIDEO].choice >= 0 ? &rx->streams[STREAM_VIDEO] : NULL;
  if (rx->params.present == 1)
    return NULL;
  session_stream *st = &rx->streams[STREAM_SLIDES];
  if (st->choice < 0)
    return NULL;
  sdp_direction d = rx->params.agreed.media[st->choice].direction;
  return d == SDP_SENDONLY || d == SDP_SENDRECV ? st : NULL;
}

/* The presenter's slides go to every other slides m-line that receives; a receiver
 * starts on a keyframe. */
static void on_slides(media_session *s, const uint8_t *pkt, size_t len,
                      const rtp_header *h, uint64_t now) {
  media_room *r = s->room;
  if (!s->params.presenting)
    return;
  session_stream *in = presentation_in(s);
  bool keyframe = rtp_is_keyframe_start(pkt, h, in->codec);
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    session_stream *out = rx != s ? slides_out(rx) : NULL;
    if (!out)
      continue;
    if (rx->slides_from != s) {
      if (!video_slots_ready(rx))
        continue;
      if (!keyframe) {
        session_request_keyframe(s, in, now);
        continue;
      }
      rx->slides_from = s;
      rx->slides_out.started = false;
    }
    session_forward(rx, out, &rx->slides_out, in, pkt, len, h, now);
  }
}

static void on_audio(media_session *s, const uint8_t *pkt, const rtp_header *h) {
  const sdp_choice *ch = &s->params.agreed.media[s->streams[STREAM_AUDIO].choice];
  if (h->payload_type == ch->dtmf_pt && ch->dtmf_pt >= 0)
    return session_on_dtmf_packet(s, pkt, h);
  if (h->payload_type != ch->pt)
    return;
  int level = -1;
  bool voice;
  if (ch->ext_audio_level &&
      rtp_audio_level(pkt, h, ch->ext_audio_level, &level, &voice) != 0)
    level = -1;
  mixer_push(s->mix, pkt + h->payload_offset, h->payload_len, h->seq, level);
}

/* Asks for rx's first keyframes once it can receive them (see video_slots_ready),
 * unless a recent one can be replayed. */
static void on_first_ready(media_session *rx, uint64_t now) {
  video_slots_first_ready(rx, now);
  if (rx->room && slides_out(rx))
    for (size_t i = 0; i < rx->room->n; i++) {
      media_session *p = rx->room->sessions[i];
      if (p != rx && p->params.presenting)
        session_request_keyframe(p, presentation_in(p), now);
    }
}

static void on_rtp(transport *t, uint8_t *pkt, size_t len, const rtp_header *h,
                   void *ud) {
  media_session *s = ud;
  if (!s->receiving && video_slots_ready(s))
    on_first_ready(s, uv_now(t->loop));
  bool repair;
  int layer;
  session_stream *st = session_stream_for_layer(s, pkt, h, &repair, &layer);
  if (!st || repair)
    return;
  uint64_t now = uv_now(t->loop);
  session_pub *p = session_layer(st, layer);
  bool first = !p->started;
  session_count_layer(p, h, len, st == &s->streams[STREAM_AUDIO] ? 48000 : 90000, now);
  if (st == &s->streams[STREAM_AUDIO]) {
    if (s->mix)
      on_audio(s, pkt, h);
    return;
  }
  if (h->payload_type != s->params.agreed.media[st->choice].pt)
    return;
  if (st == presentation_in(s)) {
    /* Kept once here, not per receiver: all receivers' NACKs are answered from it. */
    session_keep_layer(p, pkt, len, h, now);
    on_slides(s, pkt, len, h, now);
  } else if (st == &s->streams[STREAM_VIDEO]) {
    if (first)
      s->room->dirty = true; /* a new publisher (or layer) to place */
    if (video_slots_on_video(s, st, layer, pkt, len, h, first, now))
      s->room->dirty_layers = true;
  }
}

static void on_rtcp(transport *t, const rtcp_item *item, void *ud) {
  media_session *rx = ud;
  uint64_t now = uv_now(t->loop);
  if (!rx->receiving && video_slots_ready(rx))
    on_first_ready(rx, now);
  if (item->kind == RTCP_SR)
    return session_note_sender_report(rx, item, now);
  session_stream *ours = session_stream_by_local_ssrc(rx, item->media_ssrc);
  if (!ours || ours == &rx->streams[STREAM_AUDIO])
    return;
  /* A hole we cannot fill is mended by a keyframe now: Chromium asks for one only
   * after 3 s without a decodable frame. */
  if (item->kind == RTCP_NACK && session_answer_nack(rx, ours, item, now) == 0)
    return;
  if (item->kind != RTCP_NACK && item->kind != RTCP_PLI && item->kind != RTCP_FIR)
    return;
  /* A presentation reaches a receiver on its slides m-line, or on the video of a
   * present:"receive" call; it comes from the presenter's slides m-line, or from the
   * video of a present:"send" call (presentation_in). */
  if (ours == &rx->streams[STREAM_SLIDES] || rx->params.present == 2) {
    if (rx->slides_from)
      session_request_keyframe(rx->slides_from, presentation_in(rx->slides_from), now);
    return;
  }
  int i = ours == &rx->streams[STREAM_VIDEO] ? 0 : (int)(ours - rx->slot_out) + 1;
  if (i >= rx->n_slots)
    return;
  video_slot_keyframe_request(&rx->slots[i], now);
}

/* A main call's slots: one per tile of a multistream call, else one. */
static void make_slots(media_session *s) {
  free(s->slots);
  s->n_slots = 0;
  s->slots = NULL;
  if (s->params.present != 0)
    return;
  uint8_t n = s->params.agreed.n_slots >= 2 ? s->params.agreed.n_slots : 1;
  s->slots = xcalloc(n, sizeof *s->slots);
  s->n_slots = n;
  for (int i = 0; i < n; i++) {
    video_slot_init(&s->slots[i], STREAM_VIDEO, (int8_t)(i - 1));
    s->slots[i].pausable = i > 0; /* the first tile is never blanked */
  }
}

static void on_connected(transport *t, void *ud) {
  media_session *s = ud;
  s->connected_ms = uv_now(t->loop);
  session_on_connected(t, ud);
  video_slots_report(ud, true);
  if (video_slots_ready(s)) /* its first keyframes are asked for now */
    on_first_ready(s, s->connected_ms);
}

transport_sink conference_join(media_room *r, media_session *s) {
  session_init(s);
  s->room = r;
  s->join_seq = ++r->joins;
  make_slots(s);
  if (s->params.present == 0) { /* presentation calls are not in the audio mix */
    s->mix = mixer_add(r->mixer, s);
    mixer_set_muted(s->mix, s->params.muted);
    mixer_set_host(s->mix, s->params.host);
  }
  if (s->params.lecture)
    mixer_set_lecture(r->mixer, true);
  ids_random(&s->streams[STREAM_AUDIO].sub.next_seq,
             sizeof s->streams[STREAM_AUDIO].sub.next_seq);
  ids_random(&s->audio_ts, sizeof s->audio_ts);
  rtp_renumber_init(&s->slides_out);
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 8;
    r->sessions = xrealloc(r->sessions, r->cap * sizeof *r->sessions);
  }
  r->sessions[r->n++] = s;
  retarget(r);
  video_slots_prefetch(s, uv_now(s->transport->loop));
  return (transport_sink){on_connected, on_rtp, on_rtcp, session_on_failed};
}

void conference_leave(media_room *r, media_session *s) {
  if (s->mix)
    mixer_remove(r->mixer, s->mix);
  s->mix = NULL;
  for (size_t i = 0; i < r->n; i++)
    if (r->sessions[i] == s)
      r->sessions[i] = r->sessions[--r->n];
  video_slots_forget(r->sessions, r->n, s);
  for (size_t i = 0; i < r->n; i++)
    if (r->sessions[i]->slides_from == s)
      r->sessions[i]->slides_from = NULL;
  if (r->speaker == s)
    r->speaker = r->previous != s ? r->previous : NULL;
  if (r->previous == s || r->previous == r->speaker)
    r->previous = NULL;
  speaker_hold_forget(&r->hold, s);
  free(s->slots);
  s->slots = NULL;
  s->n_slots = 0;
  free(s->watch);
  s->watch = NULL;
  s->n_watch = s->cap_watch = 0;
  retarget(r);
}

void conference_update(media_session *s) {
  media_room *r = s->room;
  uint8_t n = s->params.present != 0          ? 0
              : s->params.agreed.n_slots >= 2 ? s->params.agreed.n_slots
                                              : 1;
  if (n != s->n_slots)
    make_slots(s);
  retarget(r);
}

void conference_set_hints(media_session *s, const media_call *call) {
  memcpy(s->params.hint_width, call->hint_width, sizeof s->params.hint_width);
  memcpy(s->params.hint_height, call->hint_height, sizeof s->params.hint_height);
  if (s->room)
    settle(s->room);
}

void conference_set_prefs(media_session *s, const media_call *prefs) {
  s->params.muted = prefs->muted;
  s->params.video_muted = prefs->video_muted;
  s->params.spotlight = prefs->spotlight;
  s->params.host = prefs->host;
  if (s->params.presenting && !prefs->presenting && s->room)
    for (size_t i = 0; i < s->room->n; i++)
      if (s->room->sessions[i]->slides_from == s)
        s->room->sessions[i]->slides_from = NULL; /* floor released */
  s->params.presenting = prefs->presenting;
  if (s->mix) {
    mixer_set_muted(s->mix, prefs->muted);
    mixer_set_host(s->mix, prefs->host);
  }
  if (s->room)
    retarget(s->room);
}

static void send_audio(void *owner, const uint8_t *opus, size_t len, bool shared,
                       void *ud) {
  (void)shared, (void)ud;
  media_session *rx = owner;
  session_stream *st = &rx->streams[STREAM_AUDIO];
  rx->audio_ts += AUDIO_FRAME_TICKS; /* advances even when nothing can be sent */
  if (st->choice < 0 || !rx->transport->srtp_ready)
    return;
  uint8_t pkt[12 + MIXER_MAX_PACKET + TRANSPORT_RTP_ROOM];
  size_t n = rtp_write_header(pkt, (uint8_t)rx->params.agreed.media[st->choice].pt, false,
                              st->sub.next_seq++, rx->audio_ts, st->sub.ssrc);
  memcpy(pkt + n, opus, len);
  st->sub.packets++;
  transport_send_rtp(rx->transport, pkt, n + len);
}

/* The loudest mixed participant becomes the speaker after holding that place for
 * SPEAKER_HOLD_TICKS: short interjections do not flip the stage. */
static void follow_speaker(media_room *r) {
  media_session *loudest = NULL;
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (s->mix && mixer_source_mixed(s->mix) &&
        (!loudest || mixer_source_level(s->mix) < mixer_source_level(loudest->mix)))
      loudest = s;
  }
  if (!speaker_hold_step(&r->hold, loudest, r->speaker, SPEAKER_HOLD_TICKS))
    return;
  r->previous = r->speaker;
  r->speaker = loudest;
  loudest->last_spoke_ms = r->now ? r->now : 1;
  loudest->post(loudest, MEDIA_EVENT_SPEAKER, "");
  retarget(r);
}

/* Each video layer's bitrate over the last interval. */
static void read_meters(media_room *r, uint64_t elapsed_ms) {
  for (size_t i = 0; i < r->n; i++)
    video_slots_read_meters(r->sessions[i], elapsed_ms);
}

void media_room_tick(media_room *r, uint64_t now) {
  r->now = now;
  mixer_tick(r->mixer, send_audio, &now);
  follow_speaker(r);
  if (now - r->last_layers_ms >= LAYER_INTERVAL_MS) {
    if (r->last_layers_ms)
      read_meters(r, now - r->last_layers_ms);
    r->last_layers_ms = now;
    r->dirty_layers = true;
    note_stalls(r, now);
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
    settle(r);
  r->dirty_layers = false;
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (!s->transport->srtp_ready)
      continue;
    session_dtmf_tick(s, now);
    if (now - s->last_rtcp_ms >= REPORT_INTERVAL_MS) {
      s->last_rtcp_ms = now;
      session_send_receiver_report(s, now,
                                   s->streams[STREAM_VIDEO].n_layers > 1
                                       ? SIMULCAST_MAX_BITRATE
                                       : PUBLISHER_MAX_BITRATE);
    }
  }
}
