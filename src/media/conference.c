/* conference — one room's router: mixed audio, active-speaker video, speaker changes. */
#include "media/conference.h"

#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/media_loop.h"
#include "media/mixer.h"
#include "media/session_bwe.h"
#include "media/tiles.h"
#include "media/video_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SPEAKER_HOLD_TICKS 25 /* 500 ms as the loudest before the stage changes */
#define AUDIO_FRAME_TICKS 960 /* 20 ms at 48 kHz */
#define REPORT_INTERVAL_MS 1000
#define VIDEO_STALL_MS 1000 /* no video this long: not shown (video_flowing) */
/* A new receiver is sent its source's keyframe from the cache if it is this recent
 * (see replay), at most this many packets from it to the newest. */
#define REPLAY_MAX_AGE_MS 200
#define REPLAY_MAX_PACKETS 500
/* The rate REMB lets a participant send: one camera plus slides at conference quality. */
#define PUBLISHER_MAX_BITRATE 2000000
/* A simulcast publisher's three layers (720p, 360p, 180p) need about 2.5 Mbit/s. */
#define SIMULCAST_MAX_BITRATE 3500000
#define LAYER_INTERVAL_MS 500 /* bitrates measured and layers chosen again */
/* A tile pauses only when the estimate stays short this long. */
#define PAUSE_HOLD_MS 2000
#define LAYER_UP_HOLD_MS 1000 /* a higher layer must fit this long before we go up */
#define LAYER_IDLE_MS 600 /* a layer silent this long (paused by Chrome) is not used */
#define DEFAULT_ESTIMATE_BPS 2500000 /* before the downlink has an estimate */

typedef struct video_slot video_slot;
typedef struct video_watch video_watch;

struct media_room {
  int64_t key;
  mixer *mixer;
  media_session **sessions;
  size_t n, cap;
  media_session *speaker, *previous; /* whose video is shown */
  media_session *candidate;
  int candidate_ticks;
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

/* Whether its camera still sends: some layer had a packet within VIDEO_STALL_MS, or none
 * has started yet (a newcomer). A browser that was killed, or lost its network, leaves
 * only when consent expires (30 s); until then its tile would show its last frame. */
static bool video_flowing(session_stream *st, uint64_t now) {
  bool started = false;
  for (int l = 0; l < st->n_layers; l++) {
    const session_pub *p = session_layer(st, l);
    if (p->started && now - p->last_ms <= VIDEO_STALL_MS)
      return true;
    started |= p->started;
  }
  return !started;
}

/* Sources whose video stopped (or came back) are placed again. */
static void note_stalls(media_room *r, uint64_t now) {
  for (size_t i = 0; i < r->n; i++) {
    media_session *s = r->sessions[i];
    bool stalled = s->streams[STREAM_VIDEO].choice >= 0 &&
                   !video_flowing(&s->streams[STREAM_VIDEO], now);
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

/* A subscriber's tile slot: whose video it shows (from), whose it is to show (want),
 * switched on want's keyframe at want_layer; sequence numbers and timestamps run on
 * across switches (rw). A single-video call has one slot, a multistream call one per
 * video m-line. */
struct video_slot {
  media_session *from, *want;
  int8_t layer, want_layer; /* simulcast layer of from / of want; -1 none yet */
  bool paused;              /* not shown, or no room in the budget: nothing sent */
  uint64_t up_since_ms;     /* a higher layer has been wanted since then */
  bool draining; /* going down for lack of bandwidth: the old layer is no longer sent */
  uint64_t short_since_ms; /* the estimate has not carried even its lowest layer since */
  session_rewrite rw;
  media_session *told_from; /* what the last parley_streams mapping said */
  char told_layer;
};

/* An entry of a publisher's watch list: a receiver slot that shows it, or will. */
struct video_watch {
  media_session *rx;
  uint8_t slot;
};

static bool multistream(const media_session *s) { return s->n_slots >= 2; }

static session_stream *slot_out(media_session *rx, int i) {
  return i == 0 ? &rx->streams[STREAM_VIDEO] : &rx->slot_out[i - 1];
}

static bool codec_matches(media_session *rx, int i, const media_session *src) {
  const session_stream *out = slot_out(rx, i), *in = &src->streams[STREAM_VIDEO];
  if (out->choice < 0 || in->choice < 0)
    return false;
  return strcasecmp(rx->params.agreed.media[out->choice].codec,
                    src->params.agreed.media[in->choice].codec) == 0;
}

/* The name a layer is reported by: its size's rank among the publisher's layers
 * ("l", "m", "h") once every layer it sends has shown its size (until then its rid,
 * when that is one of those letters); a publisher without simulcast is "h". */
static char layer_name(session_stream *st, int l) {
  if (st->n_layers < 2)
    return 'h';
  const session_pub *p = session_layer(st, l);
  int smaller = 0;
  bool all_known = p->height != 0;
  for (int i = 0; i < st->n_layers && all_known; i++) {
    const session_pub *q = session_layer(st, i);
    all_known = q->height || !q->started;
    smaller += q->height && q->height < p->height;
  }
  if (!all_known)
    return strchr("lmh", p->rid[0]) && p->rid[0] ? p->rid[0] : "lmh"[l > 2 ? 2 : l];
  if (st->n_layers == 2)
    return "lh"[smaller > 1 ? 1 : smaller];
  return "lmh"[smaller > 2 ? 2 : smaller];
}

/* parley_streams: a multistream receiver hears what each slot shows whenever that
 * changes (force: always, as when its call connects). A new source is told once it is
 * forwarded; a paused slot keeps its source with no layer. */
static void report(media_session *rx, bool force) {
  if (!multistream(rx))
    return;
  media_event ev = {.kind = MEDIA_EVENT_STREAMS};
  bool changed = force;
  ev.streams.n = rx->n_slots;
  for (int i = 0; i < rx->n_slots; i++) {
    video_slot *sl = &rx->slots[i];
    media_session *src = sl->paused ? sl->want : sl->from;
    char layer = src && !sl->paused && sl->layer >= 0
                     ? layer_name(&src->streams[STREAM_VIDEO], sl->layer)
                     : 0;
    changed |= src != sl->told_from || layer != sl->told_layer;
    sl->told_from = src;
    sl->told_layer = layer;
    if (src)
      memcpy(ev.streams.slot[i].call_uuid, src->params.call_uuid,
             sizeof ev.streams.slot[i].call_uuid - 1); /* a uuid: 36 characters */
    ev.streams.slot[i].layer = layer;
  }
  if (!changed || !rx->engine)
    return;
  snprintf(ev.call_uuid, sizeof ev.call_uuid, "%s", rx->params.call_uuid);
  media_loop_post(rx->engine, &ev);
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

static bool layer_live(const session_pub *p, uint64_t now) {
  return p->ssrc && p->started && now - p->last_ms <= LAYER_IDLE_MS;
}

/* What rx's hints ask for before the budget cuts it. When that grows (a tile drawn
 * larger, a layer back) beyond the estimate, the estimator may probe at once: after a
 * small hint the estimate sits near the little that was sent (it never goes far above
 * what arrives), and probes spoiled by a busy moment had backed off to 5 s apart, so a
 * tile made large could wait 10-20 s for its layer. */
static void want_more(media_session *rx, tile_layers *t, size_t k, uint64_t now) {
  tiles_fit(t, k, UINT64_MAX);
  uint64_t bps = 0;
  uint32_t heights = 0;
  for (size_t i = 0; i < k; i++)
    if (t[i].choice >= 0) {
      bps += t[i].bps[t[i].choice];
      heights += t[i].height[t[i].choice];
    }
  if (heights > rx->wanted_heights)
    session_bwe_probe_soon(rx, bps / 85 * 100, now); /* video gets 85 %, below */
  rx->wanted_heights = heights;
}

/* Each slot's layer of its source: tiles_fit over the live layers (by keyframe
 * size), within the downlink estimate. Down at once, up after LAYER_UP_HOLD_MS. */
static void choose_layers(media_session *rx, uint64_t now) {
  tile_layers t[SDP_MAX_SLOTS];
  int8_t index[SDP_MAX_SLOTS][SDP_MAX_LAYERS];
  int k = rx->n_slots;
  for (int i = 0; i < k; i++) {
    video_slot *sl = &rx->slots[i];
    memset(&t[i], 0, sizeof t[i]);
    t[i].hint_w = rx->params.hint_width[i];
    t[i].hint_h = rx->params.hint_height[i];
    t[i].pausable = i > 0;
    if (!sl->want)
      continue;
    session_stream *st = &sl->want->streams[STREAM_VIDEO];
    if (st->n_layers < 2) {
      index[i][0] = 0;
      t[i].n = 1;
      t[i].height[0] = st->pub.height;
      t[i].bps[0] = st->pub.bps;
      continue;
    }
    for (int l = 0; l < st->n_layers; l++) {
      const session_pub *p = session_layer(st, l);
      if (!layer_live(p, now) || !p->height)
        continue;
      int at = t[i].n++; /* insertion by height, smallest first */
      while (at > 0 && t[i].height[at - 1] > p->height) {
        t[i].height[at] = t[i].height[at - 1];
        t[i].bps[at] = t[i].bps[at - 1];
        index[i][at] = index[i][at - 1];
        at--;
      }
      t[i].height[at] = p->height;
      t[i].bps[at] = p->bps;
      index[i][at] = (int8_t)l;
    }
    for (int l = 0; !t[i].n && l < st->n_layers; l++)
      if (layer_live(session_layer(st, l), now)) { /* no size known yet: any live one */
        index[i][0] = (int8_t)l;
        t[i].n = 1;
      }
  }
  want_more(rx, t, (size_t)k, now);
  uint64_t budget = session_send_estimate_bps(rx);
  budget = budget ? budget : DEFAULT_ESTIMATE_BPS;
  rx->layer_budget_bps = budget;
  /* Video gets 85 % of the estimate: audio (~40 kbit/s per call), RTX and the estimate's
   * own swing take the rest. */
  budget = budget / 100 * 85;
  tiles_fit(t, (size_t)k, budget);
  uint64_t sending = 0; /* what the layers shown now take */
  for (int i = 0; i < k; i++) {
    video_slot *sl = &rx->slots[i];
    if (sl->from && !sl->paused && sl->layer >= 0)
      sending += session_layer(&sl->from->streams[STREAM_VIDEO], sl->layer)->bps;
  }
  for (int i = 0; i < k; i++) {
    video_slot *sl = &rx->slots[i];
    if (!sl->want)
      continue;
    bool paused = t[i].n && t[i].choice < 0;
    /* A dip (a busy machine's delays) must not blank a tile: it takes its lowest layer
     * until the estimate has been short for PAUSE_HOLD_MS. */
    if (paused && !sl->paused) {
      if (!sl->short_since_ms)
        sl->short_since_ms = now ? now : 1;
      if (now - sl->short_since_ms < PAUSE_HOLD_MS) {
        paused = false;
        t[i].choice = 0;
      }
    } else if (!paused) {
      sl->short_since_ms = 0;
    }
    if (paused != sl->paused) {
      sl->paused = paused;
      if (paused && sl->from == sl->want)
        sl->from = NULL; /* resumes on a keyframe */
    }
    if (t[i].choice < 0)
      continue;
    int8_t target = index[i][t[i].choice];
    bool current_live = false;
    for (int l = 0; l < t[i].n; l++)
      current_live |= index[i][l] == sl->want_layer;
    if (target == sl->want_layer) {
      sl->up_since_ms = 0;
      continue;
    }
    if (sl->from == sl->want && target == sl->layer) {
      /* Back to what is shown (an estimate that dipped and recovered before the lower
       * layer's keyframe came): no hold. If it was drained, it resumes on its next
       * keyframe: what was skipped cannot be resent, and Chromium waits 3 s before it
       * asks for a keyframe itself (a 3.1 s freeze in bwe.test.mjs). */
      sl->want_layer = target;
      sl->up_since_ms = 0;
      continue;
    }
    session_stream *st = &sl->want->streams[STREAM_VIDEO];
    bool up = current_live && session_layer(st, target)->height >
                                  session_layer(st, sl->want_layer)->height;
    if (up && !sl->up_since_ms)
      sl->up_since_ms = now ? now : 1;
    if (up && now - sl->up_since_ms < LAYER_UP_HOLD_MS)
      continue;
    /* Down because what is sent is over twice the estimate (a link cut, not a dip of a
     * busy machine's estimate): the old layer stops at once, so the queue it built
     * drains before the lower layer's keyframe comes (sent on, it kept the link full and
     * the keyframe was lost: frozen 2-3 s, bwe.test.mjs). Set, it stays set until a
     * keyframe: what was skipped leaves a hole in what the subscriber got. */
    sl->draining |= !up && sl->from == sl->want && sending > 2 * budget;
    sl->want_layer = target;
    sl->up_since_ms = 0;
  }
}

/* Who watches whom: each publisher's list of receiver slots showing it or about to,
 * so a packet is a walk over its own watchers. Rebuilt on every decision. */
static void rebuild_watch(media_room *r) {
  for (size_t i = 0; i < r->n; i++)
    r->sessions[i]->n_watch = 0;
  for (size_t i = 0; i < r->n; i++) {
    media_session *rx = r->sessions[i];
    for (int k = 0; k < rx->n_slots; k++) {
      video_slot *sl = &rx->slots[k];
      media_session *who[2] = {sl->from, sl->want != sl->from ? sl->want : NULL};
      for (int j = 0; j < 2; j++) {
        media_session *s = who[j];
        if (!s || s == rx)
          continue;
        if (s->n_watch == s->cap_watch) {
          s->cap_watch = s->cap_watch ? s->cap_watch * 2 : 4;
          s->watch = xrealloc(s->watch, s->cap_watch * sizeof *s->watch);
        }
        s->watch[s->n_watch++] = (video_watch){rx, (uint8_t)k};
      }
    }
  }
}

/* Whether rx will get what we send it now: its DTLS is done (SRTP keys in place) and a
 * path is selected, which is the first path that passed a check until the peer
 * nominates one (ice_lite). Our DTLS (the server's) completes when we send our last
 * flight, and what we send after it reaches the peer behind it, so a keyframe asked
 * for now is its first video. Waiting for the peer's nomination and first SRTP as
 * well cost 30-70 ms of every join (PERFORMANCE.md "join_time"); asked for before our
 * DTLS completed, the keyframe was lost and the next waited out the request gap
 * (~700 ms). */
static bool ready(media_session *rx) {
  const transport *t = rx->transport;
  if (!rx->receiving && t && t->srtp_ready && t->ice.has_selected)
    rx->receiving = true;
  return rx->receiving;
}

/* A slot waiting for a source or layer (switched to on its next keyframe). */
static bool pending(const video_slot *sl) {
  return sl->want && !sl->paused && sl->want_layer >= 0 &&
         (sl->from != sl->want || sl->layer != sl->want_layer || sl->draining);
}

/* A slot waiting for a source or layer asks it for a keyframe, once rx can get it. */
static void request_pending(media_session *rx, uint64_t now) {
  if (!ready(rx))
    return; /* on_first_ready asks */
  for (int i = 0; i < rx->n_slots; i++) {
    video_slot *sl = &rx->slots[i];
    if (pending(sl))
      session_request_layer_keyframe(
          sl->want, session_layer(&sl->want->streams[STREAM_VIDEO], sl->want_layer), now);
  }
}

/* Layers, watch lists, keyframe requests and mappings after a decision. */
static void settle(media_room *r) {
  for (size_t i = 0; i < r->n; i++)
    choose_layers(r->sessions[i], r->now);
  rebuild_watch(r);
  for (size_t i = 0; i < r->n; i++) {
    request_pending(r->sessions[i], r->now);
    report(r->sessions[i], false);
  }
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
      if (!ready(rx))
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

/* A keyframe tells its layer's size (VP8), which orders simulcast layers. */
static void learn_size(media_room *r, session_stream *st, session_pub *p,
                       const uint8_t *pkt, const rtp_header *h) {
  if (st->codec != RTP_CODEC_VP8)
    return;
  const uint8_t *payload = pkt + h->payload_offset;
  int d = rtp_vp8_descriptor_len(payload, h->payload_len), w, ht;
  if (d < 0 || vp8_keyframe_size(payload + d, h->payload_len - (size_t)d, &w, &ht) != 0)
    return;
  if (p->height != ht || p->width != w) {
    p->width = (uint16_t)w;
    p->height = (uint16_t)ht;
    r->dirty_layers = true;
  }
}

/* A publisher's video packet on one layer goes to the slots that watch it: forwarded
 * where it is shown, or switched to on its keyframe where it is wanted. */
static void on_video(media_session *s, int layer, const uint8_t *pkt, size_t len,
                     const rtp_header *h, bool keyframe, uint64_t now) {
  session_pub *p = session_layer(&s->streams[STREAM_VIDEO], layer);
  for (size_t w = 0; w < s->n_watch; w++) {
    media_session *rx = s->watch[w].rx;
    int i = s->watch[w].slot;
    video_slot *sl = &rx->slots[i];
    if (sl->want == s && sl->want_layer == layer && !sl->paused &&
        (sl->from != s || sl->layer != layer || sl->draining) &&
        codec_matches(rx, i, s) && ready(rx)) {
      if (!keyframe) {
        session_request_layer_keyframe(s, p, now);
        continue;
      }
      sl->from = s;
      sl->layer = (int8_t)layer;
      sl->draining = false;
      sl->rw.started = false;
      report(rx, false);
    }
    if (sl->from == s && sl->layer == layer && !sl->paused && !sl->draining)
      session_forward_layer(rx, slot_out(rx, i), &sl->rw, p, pkt, len, h, now);
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

/* A joining receiver's sources are asked for a keyframe at once, before its ICE and
 * DTLS are done, so that the keyframe is in the source's cache by then (replay). The
 * request does not count against the source's request gap: if the keyframe is late,
 * the receiver asks again once it is ready. */
static void prefetch(media_session *rx, uint64_t now) {
  for (int i = 0; i < rx->n_slots; i++) {
    video_slot *sl = &rx->slots[i];
    if (!pending(sl))
      continue;
    session_pub *p = session_layer(&sl->want->streams[STREAM_VIDEO], sl->want_layer);
    uint64_t last = p->last_keyframe_request_ms;
    session_request_layer_keyframe(sl->want, p, now);
    p->last_keyframe_request_ms = last;
  }
}

/* Sends slot i of a receiver that just became ready its source's newest keyframe and
 * every packet after it, from the source's NACK cache, and shows the source from
 * there on: the stream is whole and live at once, with no keyframe request's round
 * trip and encode to wait for. Only a keyframe at most REPLAY_MAX_AGE_MS old (each
 * replayed frame is that late to the receiver) whose packets are all still kept. */
static bool replay(media_session *rx, int i, uint64_t now) {
  video_slot *sl = &rx->slots[i];
  media_session *s = sl->want;
  session_pub *p = session_layer(&s->streams[STREAM_VIDEO], sl->want_layer);
  if (!p->has_keyframe || !p->cache || now - p->keyframe_ms > REPLAY_MAX_AGE_MS ||
      !codec_matches(rx, i, s))
    return false;
  uint16_t n = (uint16_t)(p->newest_seq - p->keyframe_seq + 1);
  size_t len;
  uint64_t kept;
  if (n > REPLAY_MAX_PACKETS)
    return false;
  for (uint16_t k = 0; k < n; k++)
    if (!rtp_cache_get(p->cache, (uint16_t)(p->keyframe_seq + k), &len, &kept) ||
        kept < p->keyframe_ms)
      return false;
  sl->from = s;
  sl->layer = sl->want_layer;
  sl->draining = false;
  sl->rw.started = false;
  for (uint16_t k = 0; k < n; k++) {
    const uint8_t *pkt =
        rtp_cache_get(p->cache, (uint16_t)(p->keyframe_seq + k), &len, &kept);
    rtp_header h;
    if (pkt && rtp_parse(pkt, len, &h) == 0)
      session_forward_layer(rx, slot_out(rx, i), &sl->rw, p, pkt, len, &h, now);
  }
  report(rx, false);
  return true;
}

/* Asks for rx's first keyframes once it can receive them (see ready), unless a recent
 * one can be replayed. */
static void on_first_ready(media_session *rx, uint64_t now) {
  for (int i = 0; i < rx->n_slots; i++)
    if (pending(&rx->slots[i]))
      replay(rx, i, now);
  request_pending(rx, now);
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
  if (!s->receiving && ready(s))
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
  /* Kept once here, not per receiver: all receivers' NACKs are answered from it. */
  session_keep_layer(p, pkt, len, h, now);
  if (st == presentation_in(s)) {
    on_slides(s, pkt, len, h, now);
  } else if (st == &s->streams[STREAM_VIDEO]) {
    if (first)
      s->room->dirty = true; /* a new publisher (or layer) to place */
    bool keyframe = rtp_is_keyframe_start(pkt, h, st->codec);
    if (first || (int16_t)(h->seq - p->newest_seq) > 0)
      p->newest_seq = h->seq;
    if (keyframe) {
      learn_size(s->room, st, p, pkt, h);
      p->has_keyframe = true;
      p->keyframe_seq = h->seq;
      p->keyframe_ms = now;
    }
    on_video(s, layer, pkt, len, h, keyframe, now);
  }
}

static void on_rtcp(transport *t, const rtcp_item *item, void *ud) {
  media_session *rx = ud;
  uint64_t now = uv_now(t->loop);
  if (!rx->receiving && ready(rx))
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
  video_slot *sl = &rx->slots[i];
  if (sl->from)
    session_request_layer_keyframe(
        sl->from, session_layer(&sl->from->streams[STREAM_VIDEO], sl->layer), now);
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
    video_slot *sl = &s->slots[i];
    ids_random(&sl->rw, sizeof sl->rw); /* random starting numbers */
    sl->rw.started = false;
    sl->layer = sl->want_layer = -1;
  }
}

static void on_connected(transport *t, void *ud) {
  media_session *s = ud;
  s->connected_ms = uv_now(t->loop);
  session_on_connected(t, ud);
  report(ud, true);
  if (ready(s)) /* its first keyframes are asked for now */
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
  ids_random(&s->slides_out, sizeof s->slides_out);
  s->slides_out.started = false;
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 8;
    r->sessions = xrealloc(r->sessions, r->cap * sizeof *r->sessions);
  }
  r->sessions[r->n++] = s;
  retarget(r);
  prefetch(s, uv_now(s->transport->loop));
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
    for (int k = 0; k < rx->n_slots; k++) {
      video_slot *sl = &rx->slots[k];
      if (sl->from == s)
        sl->from = NULL;
      if (sl->want == s) {
        sl->want = NULL;
        sl->want_layer = -1;
      }
    }
    if (rx->slides_from == s)
      rx->slides_from = NULL;
  }
  if (r->speaker == s)
    r->speaker = r->previous != s ? r->previous : NULL;
  if (r->previous == s || r->previous == r->speaker)
    r->previous = NULL;
  if (r->candidate == s)
    r->candidate = NULL;
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
  loudest->last_spoke_ms = r->now ? r->now : 1;
  r->candidate = NULL;
  loudest->post(loudest, MEDIA_EVENT_SPEAKER, "");
  retarget(r);
}

/* Each video layer's bitrate over the last interval. */
static void read_meters(media_room *r, uint64_t elapsed_ms) {
  for (size_t i = 0; i < r->n; i++) {
    session_stream *st = &r->sessions[i]->streams[STREAM_VIDEO];
    for (int l = 0; l < st->n_layers; l++) {
      session_pub *p = session_layer(st, l);
      p->bps = (uint32_t)((uint64_t)p->meter_bytes * 8 * 1000 / elapsed_ms);
      p->meter_bytes = 0;
    }
  }
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
