/* conference — one room's router: mixed audio, active-speaker video, speaker changes. */
#include "media/conference.h"

#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/mixer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPEAKER_HOLD_TICKS 25 /* 500 ms as the loudest before the stage changes */
#define AUDIO_FRAME_TICKS 960 /* 20 ms at 48 kHz */
#define REPORT_INTERVAL_MS 1000
#define RECEIVE_WAIT_MS 200 /* see ready */
/* The rate REMB lets a participant send: one camera plus slides at conference quality. */
#define PUBLISHER_MAX_BITRATE 2000000

struct media_room {
  int64_t key;
  mixer *mixer;
  media_session **sessions;
  size_t n, cap;
  media_session *speaker, *previous; /* whose video is shown */
  media_session *candidate;
  int candidate_ticks;
  uint64_t now;
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

static bool publishes_video(const media_session *s) {
  return s->params.present == 0 && s->streams[STREAM_VIDEO].choice >= 0 &&
         s->streams[STREAM_VIDEO].pub.ssrc && !s->params.video_muted;
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

/* Whether rx will get what we send it now. Our DTLS completes half a round trip before
 * the browser's, and Chromium drops SRTP that comes at once (before it has its keys, or
 * can demultiplex it); with no ICE pair selected yet nothing is sent at all. A keyframe
 * asked for and sent then was lost, and the next came only after the keyframe request
 * gap: the first frame took ~700 ms (bench/join_time.mjs). So rx receives once a pair is
 * selected and it has sent us SRTP or SRTCP itself, which a browser does once it has its
 * keys, or RECEIVE_WAIT_MS after our DTLS completed, for peers that only listen. */
static bool ready(media_session *rx, uint64_t now) {
  const transport *t = rx->transport;
  if (!rx->receiving && t && t->srtp_ready && t->ice.has_selected)
    rx->receiving = t->counters.rtp_in + t->counters.rtcp_in > 0 ||
                    now - rx->connected_ms >= RECEIVE_WAIT_MS;
  return rx->receiving;
}

/* Receivers move to their new source at its next keyframe, which we ask for. */
static void retarget(media_room *r) {
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    if (rx->params.present)
      continue; /* presentation calls carry no speaker video */
    media_session *t = video_target(r, rx);
    if (t == rx->video_from) {
      rx->video_pending = NULL; /* back to what it already sees */
      continue;
    }
    if (t == rx->video_pending)
      continue;
    rx->video_pending = t;
    if (t && ready(rx, r->now)) /* else on_first_ready or on_video asks */
      session_request_keyframe(t, &t->streams[STREAM_VIDEO], r->now);
  }
}

static bool same_codec(const media_session *a, const media_session *b) {
  const sdp_choice *ca = &a->params.agreed.media[a->streams[STREAM_VIDEO].choice];
  const sdp_choice *cb = &b->params.agreed.media[b->streams[STREAM_VIDEO].choice];
  return strcasecmp(ca->codec, cb->codec) == 0;
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
      if (!ready(rx, now))
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

static void on_video(media_session *s, const uint8_t *pkt, size_t len,
                     const rtp_header *h, uint64_t now) {
  media_room *r = s->room;
  bool keyframe = rtp_is_keyframe_start(pkt, h, s->streams[STREAM_VIDEO].codec);
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    if (rx->video_pending == s && same_codec(rx, s) && ready(rx, now)) {
      if (!keyframe) {
        session_request_keyframe(s, &s->streams[STREAM_VIDEO], now);
        continue;
      }
      rx->video_from = s;
      rx->video_pending = NULL;
      rx->video_out.started = false;
    }
    if (rx->video_from == s && rx != s)
      session_forward(rx, &rx->streams[STREAM_VIDEO], &rx->video_out,
                      &s->streams[STREAM_VIDEO], pkt, len, h, now);
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

/* Asks for rx's first keyframes once it can receive them (see ready). */
static void on_first_ready(media_session *rx, uint64_t now) {
  media_session *from = rx->video_pending;
  if (from)
    session_request_keyframe(from, &from->streams[STREAM_VIDEO], now);
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
  if (!s->receiving && ready(s, uv_now(t->loop)))
    on_first_ready(s, uv_now(t->loop));
  bool repair;
  session_stream *st = session_stream_for(s, pkt, h, &repair);
  if (!st || repair)
    return;
  session_count_received(st, h, len, st == &s->streams[STREAM_AUDIO] ? 48000 : 90000,
                         uv_now(t->loop));
  if (st == &s->streams[STREAM_AUDIO]) {
    if (s->mix)
      on_audio(s, pkt, h);
    return;
  }
  if (h->payload_type != s->params.agreed.media[st->choice].pt)
    return;
  uint64_t now = uv_now(t->loop);
  /* Kept once here, not per receiver: all receivers' NACKs are answered from it. */
  session_keep_received(st, pkt, len, h, now);
  if (st == presentation_in(s))
    on_slides(s, pkt, len, h, now);
  else if (st == &s->streams[STREAM_VIDEO])
    on_video(s, pkt, len, h, now);
}

static void on_rtcp(transport *t, const rtcp_item *item, void *ud) {
  media_session *rx = ud;
  uint64_t now = uv_now(t->loop);
  if (!rx->receiving && ready(rx, now))
    on_first_ready(rx, now);
  if (item->kind == RTCP_SR)
    return session_note_sender_report(rx, item, now);
  session_stream *ours = session_stream_by_local_ssrc(rx, item->media_ssrc);
  if (!ours || ours == &rx->streams[STREAM_AUDIO])
    return;
  /* A presentation reaches a receiver on its slides m-line, or on the video of a
   * present:"receive" call; it comes from the presenter's slides m-line, or from the
   * video of a present:"send" call (presentation_in). */
  bool slides = ours == &rx->streams[STREAM_SLIDES] || rx->params.present == 2;
  media_session *from = slides ? rx->slides_from : rx->video_from;
  if ((item->kind == RTCP_PLI || item->kind == RTCP_FIR) && from)
    session_request_keyframe(
        from, slides ? presentation_in(from) : &from->streams[STREAM_VIDEO], now);
  else if (item->kind == RTCP_NACK)
    session_answer_nack(rx, ours, item, now);
}

static void on_connected(transport *t, void *ud) {
  media_session *s = ud;
  s->connected_ms = uv_now(t->loop);
  session_on_connected(t, ud);
}

transport_sink conference_join(media_room *r, media_session *s) {
  session_init(s);
  s->room = r;
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
  ids_random(&s->video_out, sizeof s->video_out); /* random starting numbers */
  ids_random(&s->slides_out, sizeof s->slides_out);
  s->video_out.started = s->slides_out.started = false;
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 8;
    r->sessions = xrealloc(r->sessions, r->cap * sizeof *r->sessions);
  }
  r->sessions[r->n++] = s;
  retarget(r);
  return (transport_sink){on_connected, on_rtp, on_rtcp, session_on_failed};
}

void conference_leave(media_room *r, media_session *s) {
  if (s->mix)
    mixer_remove(r->mixer, s->mix);
  s->mix = NULL;
  for (size_t i = 0; i < r->n; i++)
    if (r->sessions[i] == s)
      r->sessions[i] = r->sessions[--r->n];
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    if (rx->video_from == s)
      rx->video_from = NULL;
    if (rx->video_pending == s)
      rx->video_pending = NULL;
    if (rx->slides_from == s)
      rx->slides_from = NULL;
  }
  if (r->speaker == s)
    r->speaker = r->previous != s ? r->previous : NULL;
  if (r->previous == s || r->previous == r->speaker)
    r->previous = NULL;
  if (r->candidate == s)
    r->candidate = NULL;
  retarget(r);
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
  uint8_t pkt[12 + MIXER_MAX_PACKET + SRTP_SESSION_OVERHEAD];
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
  if (!loudest || loudest == r->speaker) {
    r->candidate = NULL;
    return;
  }
  r->candidate_ticks = loudest == r->candidate ? r->candidate_ticks + 1 : 1;
  r->candidate = loudest;
  if (r->candidate_ticks < SPEAKER_HOLD_TICKS)
    return;
  r->previous = r->speaker;
  r->speaker = loudest;
  r->candidate = NULL;
  loudest->post(loudest, MEDIA_EVENT_SPEAKER, "");
  retarget(r);
}

void media_room_tick(media_room *r, uint64_t now) {
  r->now = now;
  mixer_tick(r->mixer, send_audio, &now);
  follow_speaker(r);
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    if (!s->transport->srtp_ready)
      continue;
    session_dtmf_tick(s, now);
    if (now - s->last_rtcp_ms >= REPORT_INTERVAL_MS) {
      s->last_rtcp_ms = now;
      session_send_receiver_report(s, now, PUBLISHER_MAX_BITRATE);
    }
  }
}
