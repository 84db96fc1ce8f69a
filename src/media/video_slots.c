/* video_slots — a publisher's video to its subscribers' slots, shared by the
 * conference and the pub/sub feed router: layer choice, keyframe switching, replay. */
#include "media/video_slots.h"

#include "core/mem.h"
#include "media/media_loop.h"
#include "media/session_bwe.h"
#include "media/tiles.h"
#include "media/video_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A new receiver is sent its source's keyframe from the cache if it is this recent
 * (see replay), at most this many packets from it to the newest. */
#define REPLAY_MAX_AGE_MS 200
#define REPLAY_MAX_PACKETS 500
/* A tile pauses only when the estimate stays short this long. */
#define PAUSE_HOLD_MS 2000
#define LAYER_UP_HOLD_MS 1000 /* a higher layer must fit this long before we go up */
#define LAYER_IDLE_MS 600 /* a layer silent this long (paused by Chrome) is not used */
#define DEFAULT_ESTIMATE_BPS 2500000 /* before the downlink has an estimate */
#define VIDEO_STALL_MS 1000 /* no video this long: not shown (video_slots_flowing) */

void video_slot_init(video_slot *sl, int8_t src, int8_t out) {
  memset(sl, 0, sizeof *sl);
  rtp_renumber_init(&sl->rn);
  sl->layer = sl->want_layer = -1;
  sl->src = src;
  sl->out = out;
}

static bool multistream(const media_session *s) {
  return s->params.mode == MEDIA_CONFERENCE && s->n_slots >= 2;
}

session_stream *video_slot_out(media_session *rx, const video_slot *sl) {
  return sl->out < 0 ? &rx->streams[STREAM_VIDEO] : &rx->slot_out[sl->out];
}

static session_stream *slot_out(media_session *rx, int i) {
  return video_slot_out(rx, &rx->slots[i]);
}

static session_stream *source_of(const video_slot *sl, media_session *src) {
  return &src->streams[sl->src];
}

static bool codec_matches(media_session *rx, int i, const media_session *src) {
  const session_stream *out = slot_out(rx, i),
                       *in = source_of(&rx->slots[i], (media_session *)src);
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
void video_slots_report(media_session *rx, bool force) {
  if (!multistream(rx))
    return;
  media_event ev = {.kind = MEDIA_EVENT_STREAMS};
  bool changed = force;
  ev.streams.n = rx->n_slots < SDP_MAX_SLOTS ? rx->n_slots : SDP_MAX_SLOTS;
  for (int i = 0; i < ev.streams.n; i++) {
    video_slot *sl = &rx->slots[i];
    media_session *src = sl->paused ? sl->want : sl->from;
    char layer = src && !sl->paused && sl->layer >= 0
                     ? layer_name(source_of(sl, src), sl->layer)
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
  tile_layers t[SDP_MAX_MEDIA];
  int8_t index[SDP_MAX_MEDIA][SDP_MAX_LAYERS];
  int k = rx->n_slots;
  for (int i = 0; i < k; i++) {
    video_slot *sl = &rx->slots[i];
    memset(&t[i], 0, sizeof t[i]);
    t[i].hint_w = sl->hint_w;
    t[i].hint_h = sl->hint_h;
    t[i].pausable = sl->pausable;
    if (!sl->want || sl->src == STREAM_AUDIO)
      continue;
    session_stream *st = source_of(sl, sl->want);
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
      sending += session_layer(source_of(sl, sl->from), sl->layer)->bps;
  }
  for (int i = 0; i < k; i++) {
    video_slot *sl = &rx->slots[i];
    if (!sl->want || sl->src == STREAM_AUDIO)
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
    session_stream *st = source_of(sl, sl->want);
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
static void rebuild_watch(media_session **sessions, size_t n) {
  for (size_t i = 0; i < n; i++)
    sessions[i]->n_watch = 0;
  for (size_t i = 0; i < n; i++) {
    media_session *rx = sessions[i];
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
bool video_slots_ready(media_session *rx) {
  const transport *t = rx->transport;
  if (!rx->receiving && t && t->srtp_ready && t->ice.has_selected)
    rx->receiving = true;
  return rx->receiving;
}

/* A slot waiting for a source or layer (switched to on its next keyframe). */
bool video_slot_pending(const video_slot *sl) {
  return sl->want && !sl->paused && sl->want_layer >= 0 &&
         (sl->from != sl->want || sl->layer != sl->want_layer || sl->draining);
}

/* A slot waiting for a source or layer asks it for a keyframe, once rx can get it. */
static void request_pending(media_session *rx, uint64_t now) {
  if (!video_slots_ready(rx))
    return; /* on_first_ready asks */
  for (int i = 0; i < rx->n_slots; i++) {
    video_slot *sl = &rx->slots[i];
    if (video_slot_pending(sl) && sl->src != STREAM_AUDIO)
      session_request_layer_keyframe(
          sl->want, session_layer(source_of(sl, sl->want), sl->want_layer), now);
  }
}

/* A keyframe tells its layer's size (VP8), which orders simulcast layers. */
static bool learn_size(session_stream *st, session_pub *p, const uint8_t *pkt,
                       const rtp_header *h) {
  if (st->codec != RTP_CODEC_VP8)
    return false;
  const uint8_t *payload = pkt + h->payload_offset;
  int d = rtp_vp8_descriptor_len(payload, h->payload_len), w, ht;
  if (d < 0 || vp8_keyframe_size(payload + d, h->payload_len - (size_t)d, &w, &ht) != 0)
    return false;
  if (p->height == ht && p->width == w)
    return false;
  p->width = (uint16_t)w;
  p->height = (uint16_t)ht;
  return true;
}

/* A publisher's video packet on one layer goes to the slots that watch it: forwarded
 * where it is shown, or switched to on its keyframe where it is wanted. */
static void on_video(media_session *s, int stream, int layer, const uint8_t *pkt,
                     size_t len, const rtp_header *h, bool keyframe, uint64_t now) {
  session_pub *p = session_layer(&s->streams[stream], layer);
  for (size_t w = 0; w < s->n_watch; w++) {
    media_session *rx = s->watch[w].rx;
    int i = s->watch[w].slot;
    video_slot *sl = &rx->slots[i];
    if (sl->src != stream)
      continue;
    if (sl->want == s && sl->want_layer == layer && !sl->paused &&
        (sl->from != s || sl->layer != layer || sl->draining) &&
        codec_matches(rx, i, s) && video_slots_ready(rx)) {
      if (!keyframe) {
        session_request_layer_keyframe(s, p, now);
        continue;
      }
      sl->from = s;
      sl->layer = (int8_t)layer;
      sl->draining = false;
      sl->rn.started = false;
      video_slots_report(rx, false);
    }
    if (sl->from == s && sl->layer == layer && !sl->paused && !sl->draining)
      session_forward_layer(rx, slot_out(rx, i), &sl->rn, p, pkt, len, h, now);
  }
}

/* A joining receiver's sources are asked for a keyframe at once, before its ICE and
 * DTLS are done, so that the keyframe is in the source's cache by then (replay). The
 * request does not count against the source's request gap: if the keyframe is late,
 * the receiver asks again once it is ready. */
void video_slots_prefetch(media_session *rx, uint64_t now) {
  for (int i = 0; i < rx->n_slots; i++) {
    video_slot *sl = &rx->slots[i];
    if (!video_slot_pending(sl) || sl->src == STREAM_AUDIO)
      continue;
    session_pub *p = session_layer(source_of(sl, sl->want), sl->want_layer);
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
  session_pub *p = session_layer(source_of(sl, s), sl->want_layer);
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
  sl->rn.started = false;
  for (uint16_t k = 0; k < n; k++) {
    const uint8_t *pkt =
        rtp_cache_get(p->cache, (uint16_t)(p->keyframe_seq + k), &len, &kept);
    rtp_header h;
    if (pkt && rtp_parse(pkt, len, &h) == 0)
      session_forward_layer(rx, slot_out(rx, i), &sl->rn, p, pkt, len, &h, now);
  }
  video_slots_report(rx, false);
  return true;
}

/* Layers, watch lists, keyframe requests and mappings after a decision. */
void video_slots_settle(media_session **sessions, size_t n, uint64_t now) {
  for (size_t i = 0; i < n; i++)
    choose_layers(sessions[i], now);
  rebuild_watch(sessions, n);
  for (size_t i = 0; i < n; i++) {
    request_pending(sessions[i], now);
    video_slots_report(sessions[i], false);
  }
}

void video_slots_first_ready(media_session *rx, uint64_t now) {
  for (int i = 0; i < rx->n_slots; i++)
    if (video_slot_pending(&rx->slots[i]) && rx->slots[i].src != STREAM_AUDIO)
      replay(rx, i, now);
  request_pending(rx, now);
}

bool video_slots_on_video(media_session *s, session_stream *st, int layer,
                          const uint8_t *pkt, size_t len, const rtp_header *h, bool first,
                          uint64_t now) {
  session_pub *p = session_layer(st, layer);
  bool resized = false;
  /* Kept once here, not per receiver: all receivers' NACKs are answered from it. */
  session_keep_layer(p, pkt, len, h, now);
  bool keyframe = rtp_is_keyframe_start(pkt, h, st->codec);
  if (first || (int16_t)(h->seq - p->newest_seq) > 0)
    p->newest_seq = h->seq;
  if (keyframe) {
    resized = learn_size(st, p, pkt, h);
    p->has_keyframe = true;
    p->keyframe_seq = h->seq;
    p->keyframe_ms = now;
  }
  on_video(s, (int)(st - s->streams), layer, pkt, len, h, keyframe, now);
  return resized;
}

void video_slot_keyframe_request(video_slot *sl, uint64_t now) {
  if (sl->from && sl->layer >= 0)
    session_request_layer_keyframe(
        sl->from, session_layer(source_of(sl, sl->from), sl->layer), now);
}

void video_slots_read_meters(media_session *s, uint64_t elapsed_ms) {
  for (int k = STREAM_VIDEO; k <= STREAM_SLIDES; k++) {
    session_stream *st = &s->streams[k];
    for (int l = 0; l < st->n_layers; l++) {
      session_pub *p = session_layer(st, l);
      p->bps = (uint32_t)((uint64_t)p->meter_bytes * 8 * 1000 / elapsed_ms);
      p->meter_bytes = 0;
    }
  }
}

/* Whether a camera still sends: some layer had a packet within VIDEO_STALL_MS, or none
 * has started yet (a newcomer). A browser that was killed, or lost its network, leaves
 * only when consent expires (30 s); until then its tile would show its last frame. */
bool video_slots_flowing(session_stream *st, uint64_t now) {
  bool started = false;
  for (int l = 0; l < st->n_layers; l++) {
    const session_pub *p = session_layer(st, l);
    if (p->started && now - p->last_ms <= VIDEO_STALL_MS)
      return true;
    started |= p->started;
  }
  return !started;
}

void video_slots_forget(media_session **sessions, size_t n, media_session *gone) {
  for (size_t i = 0; i < n; i++) {
    media_session *rx = sessions[i];
    for (int k = 0; k < rx->n_slots; k++) {
      video_slot *sl = &rx->slots[k];
      if (sl->from == gone)
        sl->from = NULL;
      if (sl->want == gone) {
        sl->want = NULL;
        sl->want_layer = -1;
      }
    }
  }
}
