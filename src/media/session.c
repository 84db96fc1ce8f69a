/* session — one call's media: streams bound to the agreement, forwarding with rewrite,
 * keyframe requests, NACKs, RTCP reports and DTMF, shared by every router. */
#include "media/session.h"

#include "core/ids.h"
#include "core/mem.h"
#include "rtc/dtmf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define KEYFRAME_REQUEST_GAP_MS 500
/* Older packets are useless to the receiver, or stale slots. */
#define NACK_MAX_AGE_MS 1000
/* Chromium NACKs a missing packet up to 10 times, once per round trip as it measured
 * it. Behind a full 400 kbit/s queue (500 ms) that was 15 NACKs in 300 ms for one
 * packet: answering each put 15 copies on the full link and none arrived in time, and
 * the video froze 3.8 s until Chromium's own keyframe timeout (bwe.test.mjs). After
 * three answers the hole is taken as one only a keyframe mends. */
#define NACK_MAX_RESENDS 3
#define DTMF_DURATION_MS 100
#define DTMF_GAP_MS 60

static rtp_codec codec_of(const char *name) {
  if (strcasecmp(name, "VP9") == 0)
    return RTP_CODEC_VP9;
  if (strcasecmp(name, "H264") == 0)
    return RTP_CODEC_H264;
  if (strcasecmp(name, "VP8") == 0)
    return RTP_CODEC_VP8;
  return RTP_CODEC_OPUS;
}

/* A simulcast publisher's layers, one per rid (allocated only then). */
static void bind_layers(session_stream *st, const sdp_choice *ch) {
  uint8_t n = ch->n_rids >= 2 ? ch->n_rids : 1;
  if (st->n_layers != n) {
    for (int i = 1; i < st->n_layers; i++)
      rtp_cache_release(st->more_layers[i - 1].cache);
    free(st->more_layers);
    st->more_layers = n > 1 ? xcalloc(n - 1u, sizeof *st->more_layers) : NULL;
    st->n_layers = n;
  }
  for (int i = 0; i < n && n > 1; i++)
    snprintf(session_layer(st, i)->rid, sizeof st->pub.rid, "%s", ch->rids[i]);
}

/* n streams we send on beside the main ones (made anew when their number changes). */
static void resize_slot_out(media_session *s, uint8_t n) {
  if (s->n_slot_out == n)
    return;
  for (int i = 0; i < s->n_slot_out; i++)
    rtp_sent_free(s->slot_out[i].sub.sent);
  free(s->slot_out);
  s->slot_out = n ? xcalloc(n, sizeof *s->slot_out) : NULL;
  s->n_slot_out = n;
}

/* A multistream call's slots 1..: what we send on each (slot 0 is STREAM_VIDEO). */
static void bind_slot_streams(media_session *s) {
  const media_call *c = &s->params;
  uint8_t n = c->agreed.n_slots >= 2 ? (uint8_t)(c->agreed.n_slots - 1) : 0;
  resize_slot_out(s, n);
  for (int i = 0; i < n; i++)
    s->slot_out[i].choice = -1;
  for (size_t i = 0; i < c->agreed.n_media; i++) {
    const sdp_choice *ch = &c->agreed.media[i];
    if (!ch->accepted || ch->slot < 1 || ch->slot > n)
      continue;
    session_stream *st = &s->slot_out[ch->slot - 1];
    st->choice = (int)i;
    st->codec = codec_of(ch->codec);
    st->n_layers = 1;
    st->sub.ssrc = c->slot_ssrc[ch->slot - 1];
  }
}

/* A pub/sub subscribe call: every m-line is one we send on (slot_out[i] for m-line i),
 * each with its track's SSRC; nothing is received. */
static void bind_track_streams(media_session *s) {
  const media_call *c = &s->params;
  uint8_t n = (uint8_t)c->agreed.n_media;
  resize_slot_out(s, n);
  for (int i = 0; i < n; i++) {
    const sdp_choice *ch = &c->agreed.media[i];
    session_stream *st = &s->slot_out[i];
    st->choice = ch->accepted && i < c->n_tracks ? i : -1;
    st->codec = codec_of(ch->codec);
    st->n_layers = 1;
    st->sub.ssrc = i < c->n_tracks ? c->tracks[i].ssrc : 0;
  }
}

static void bind_streams(media_session *s) {
  const media_call *c = &s->params;
  for (int i = 0; i < STREAM_COUNT; i++)
    s->streams[i].choice = -1;
  if (c->mode == MEDIA_PUBSUB_SUB) {
    for (int i = 0; i < STREAM_COUNT; i++)
      if (!s->streams[i].n_layers)
        s->streams[i].n_layers = 1;
    return bind_track_streams(s);
  }
  for (size_t i = 0; i < c->agreed.n_media; i++) {
    const sdp_choice *ch = &c->agreed.media[i];
    if (!ch->accepted || ch->slot > 0 || ch->kind == SDP_APPLICATION)
      continue; /* data channels are the transport's (sctp.c) */
    int k = ch->kind == SDP_AUDIO ? STREAM_AUDIO
            : ch->slides          ? STREAM_SLIDES
                                  : STREAM_VIDEO;
    session_stream *st = &s->streams[k];
    if (st->choice >= 0)
      continue; /* a second m-line of the same kind is not used */
    st->choice = (int)i;
    st->codec = codec_of(ch->codec);
    st->sub.ssrc = k == STREAM_AUDIO   ? c->audio_ssrc
                   : k == STREAM_VIDEO ? c->video_ssrc
                                       : c->slides_ssrc;
    if (ch->remote_ssrc)
      st->pub.ssrc = ch->remote_ssrc;
    st->pub.rtx_ssrc = ch->remote_rtx_ssrc;
    bind_layers(st, ch);
  }
  for (int i = 0; i < STREAM_COUNT; i++)
    if (!s->streams[i].n_layers)
      s->streams[i].n_layers = 1;
  bind_slot_streams(s);
}

void session_init(media_session *s) {
  bind_streams(s);
  ids_random(&s->rtcp_ssrc, sizeof s->rtcp_ssrc);
}

void session_update(media_session *s) { bind_streams(s); }

void session_free(media_session *s) {
  for (int i = 0; i < STREAM_COUNT; i++) {
    session_stream *st = &s->streams[i];
    for (int l = 0; l < st->n_layers; l++)
      rtp_cache_release(session_layer(st, l)->cache);
    free(st->more_layers);
    rtp_sent_free(st->sub.sent);
  }
  for (int i = 0; i < s->n_slot_out; i++)
    rtp_sent_free(s->slot_out[i].sub.sent);
  free(s->slot_out);
  free(s->dc_held);
  s->dc_held = NULL;
}

static const sdp_choice *choice_of(const media_session *s, const session_stream *st) {
  return &s->params.agreed.media[st->choice];
}

/* A simulcast packet's layer by its rid (or repaired rid, for RTX), learned once. */
static session_stream *learn_layer(media_session *s, session_stream *st,
                                   const uint8_t *pkt, const rtp_header *h, bool *repair,
                                   int *layer) {
  const sdp_choice *ch = &s->params.agreed.media[st->choice];
  const uint8_t *v;
  size_t n;
  bool rtx =
      ch->ext_repaired_rid && rtp_ext_find(pkt, h, ch->ext_repaired_rid, &v, &n) == 0;
  if (!rtx && rtp_ext_find(pkt, h, ch->ext_rid, &v, &n) != 0)
    return NULL;
  for (int i = 0; i < st->n_layers; i++) {
    session_pub *p = session_layer(st, i);
    if (n != strlen(p->rid) || memcmp(v, p->rid, n) != 0)
      continue;
    if (rtx) {
      p->rtx_ssrc = h->ssrc;
      *repair = true;
    } else if (h->payload_type == ch->pt) {
      p->ssrc = h->ssrc;
    } else {
      return NULL;
    }
    *layer = i;
    return st;
  }
  return NULL;
}

/* Which of our streams a packet belongs to: signalled SSRCs first, then the mid
 * header extension for unsignalled ones (learned once); a simulcast stream's layers
 * are learned by rid. */
session_stream *session_stream_for_layer(media_session *s, const uint8_t *pkt,
                                         const rtp_header *h, bool *repair, int *layer) {
  *repair = false;
  *layer = 0;
  for (int i = 0; i < STREAM_COUNT; i++) {
    session_stream *st = &s->streams[i];
    if (st->choice < 0)
      continue;
    for (int l = 0; l < st->n_layers; l++) {
      session_pub *p = session_layer(st, l);
      *layer = l;
      if (p->ssrc == h->ssrc)
        return st;
      if (p->rtx_ssrc && p->rtx_ssrc == h->ssrc)
        return *repair = true, st;
    }
  }
  *layer = 0;
  for (int i = 0; i < STREAM_COUNT; i++) {
    session_stream *st = &s->streams[i];
    if (st->choice < 0)
      continue;
    if (st->n_layers > 1) {
      session_stream *hit = learn_layer(s, st, pkt, h, repair, layer);
      if (hit)
        return hit;
      continue;
    }
    if (st->pub.ssrc)
      continue;
    const sdp_choice *ch = choice_of(s, st);
    const uint8_t *mid;
    size_t n;
    if (ch->ext_mid && rtp_ext_find(pkt, h, ch->ext_mid, &mid, &n) == 0 &&
        n == strlen(ch->mid) && memcmp(mid, ch->mid, n) == 0 &&
        h->payload_type == ch->pt) {
      st->pub.ssrc = h->ssrc;
      return st;
    }
  }
  return NULL;
}

session_stream *session_stream_for(media_session *s, const uint8_t *pkt,
                                   const rtp_header *h, bool *repair) {
  int layer;
  return session_stream_for_layer(s, pkt, h, repair, &layer);
}

session_stream *session_stream_by_local_ssrc(media_session *s, uint32_t ssrc) {
  for (int i = 0; i < STREAM_COUNT; i++)
    if (s->streams[i].choice >= 0 && s->streams[i].sub.ssrc == ssrc)
      return &s->streams[i];
  for (int i = 0; i < s->n_slot_out; i++)
    if (s->slot_out[i].choice >= 0 && s->slot_out[i].sub.ssrc == ssrc)
      return &s->slot_out[i];
  return NULL;
}

/* pkt as stream `out` of s sends it, written into dst: its SSRC, payload type, numbers
 * `as` (ids: the VP8/VP9 picture ids read from pkt), and none of the sender's header
 * extensions, only room for our transport-wide sequence number when transport-cc is
 * agreed. Returns the new length. */
static size_t write_as_sent(const media_session *s, uint8_t *dst, const uint8_t *pkt,
                            size_t len, const rtp_header *h, const session_stream *out,
                            const rtp_renumbered *as, const rtp_vpx_ids *ids) {
  const transport_twcc *tw = s->transport->twcc;
  size_t tail = len - h->payload_offset; /* payload and padding: copied as they are */
  len = twcc_copy_stripped(dst, pkt, len, h, tw ? tw->ext_id : 0);
  rtp_set_ssrc(dst, out->sub.ssrc);
  rtp_set_seq(dst, as->seq);
  rtp_set_timestamp(dst, as->ts);
  rtp_set_payload_type(dst, (uint8_t)s->params.agreed.media[out->choice].pt);
  rtp_vpx_ids_shift(dst + (len - tail), ids, as->pic_delta, as->tl0_delta);
  return len;
}

static rtp_vpx_ids vpx_ids_of(const session_stream *out, const uint8_t *pkt,
                              const rtp_header *h) {
  rtp_vpx_ids ids;
  rtp_vpx_ids_read(pkt + h->payload_offset, h->payload_len, out->codec, &ids);
  return ids;
}

/* Logs what `out` sent, for its subscriber's NACKs: audio is not resent. */
static void note_sent(session_stream *out, const session_pub *from, uint16_t source_seq,
                      const rtp_renumbered *as, uint64_t now) {
  if (out->codec == RTP_CODEC_OPUS || !from->cache)
    return;
  if (!out->sub.sent)
    out->sub.sent = rtp_sent_new();
  rtp_sent_note(out->sub.sent, from->cache, source_seq, as, now);
}

bool session_forward(media_session *rx, session_stream *out, rtp_renumber *rn,
                     const session_stream *from, const uint8_t *pkt, size_t len,
                     const rtp_header *h, uint64_t now) {
  return session_forward_layer(rx, out, rn, &from->pub, pkt, len, h, now);
}

bool session_forward_layer(media_session *rx, session_stream *out, rtp_renumber *rn,
                           const session_pub *from, const uint8_t *pkt, size_t len,
                           const rtp_header *h, uint64_t now) {
  if (out->choice < 0 || len > RTP_MAX_PACKET)
    return false;
  uint8_t *slot = transport_rtp_slot(rx->transport);
  if (!slot)
    return false; /* not connected yet (ICE or DTLS), or gone */
  rtp_vpx_ids ids = vpx_ids_of(out, pkt, h);
  uint32_t clock_hz = out->codec == RTP_CODEC_OPUS ? 48000 : 90000;
  rtp_renumbered as = rtp_renumber_next(rn, h, &ids, clock_hz, now);
  len = write_as_sent(rx, slot, pkt, len, h, out, &as, &ids);
  out->sub.packets++;
  note_sent(out, from, h->seq, &as, now);
  return transport_queue_rtp(rx->transport, slot, len) == 0;
}

/* The echo router's in-place path: pkt goes back out on the stream it came in on. */
void session_note_echoed(session_stream *st, uint16_t source_seq, uint16_t seq,
                         uint32_t ts, uint64_t now) {
  rtp_renumbered as = {.seq = seq, .ts = ts};
  note_sent(st, &st->pub, source_seq, &as, now);
}

static void send_feedback(media_session *s, uint8_t *fb, size_t n) {
  uint8_t pkt[256];
  /* Feedback rides behind an empty RR: a compound must start with a report. */
  size_t at =
      rtcp_write_rr(pkt, sizeof pkt - SRTP_SESSION_OVERHEAD, s->rtcp_ssrc, NULL, 0);
  memcpy(pkt + at, fb, n);
  transport_send_rtcp(s->transport, pkt, at + n);
}

void session_request_keyframe(media_session *s, session_stream *st, uint64_t now) {
  session_request_layer_keyframe(s, &st->pub, now);
}

void session_request_layer_keyframe(media_session *s, session_pub *p, uint64_t now) {
  if (!p->ssrc || now - p->last_keyframe_request_ms < KEYFRAME_REQUEST_GAP_MS)
    return;
  p->last_keyframe_request_ms = now;
  uint8_t fb[16];
  size_t n = rtcp_write_pli(fb, sizeof fb, s->rtcp_ssrc, p->ssrc);
  send_feedback(s, fb, n);
  s->keyframe_requests++;
}

void session_keep_received(session_stream *st, const uint8_t *pkt, size_t len,
                           const rtp_header *h, uint64_t now) {
  session_keep_layer(&st->pub, pkt, len, h, now);
}

void session_keep_layer(session_pub *p, const uint8_t *pkt, size_t len,
                        const rtp_header *h, uint64_t now) {
  /* On first use: a stream that never carries video costs nothing. */
  if (!p->cache)
    p->cache = rtp_cache_new();
  rtp_cache_put(p->cache, pkt, len, h->seq, now);
}

/* One NACKed packet, rebuilt from its publisher's cache as it was sent (header
 * extensions aside). A slot may hold the same number from a wrap ago: ages are
 * checked. False if it is gone, was never sent, or was resent NACK_MAX_RESENDS times
 * already. */
static bool resend(media_session *s, session_stream *st, uint16_t seq, uint64_t now) {
  const rtp_sent_entry *e =
      rtp_sent_take_resend(st->sub.sent, seq, now, NACK_MAX_AGE_MS, NACK_MAX_RESENDS);
  if (!e)
    return false;
  /* The first NACK for a packet comes one RTT (and the gap to the next packet) after it
   * left: the NACK horizon of its cache follows that (rtc/rtp_cache.h). */
  if (e->resends == 1)
    rtp_cache_note_nack_delay(e->source, rtp_sent_age(e, now), now);
  size_t kept_len;
  uint64_t kept_ms;
  const uint8_t *kept = rtp_cache_get(e->source, e->source_seq, &kept_len, &kept_ms);
  rtp_header h;
  if (!kept || now - kept_ms > NACK_MAX_AGE_MS || rtp_parse(kept, kept_len, &h))
    return false;
  uint8_t *slot = transport_rtp_slot(s->transport);
  if (!slot)
    return true; /* not connected: nothing to repair */
  rtp_renumbered as = {.seq = seq,
                       .ts = e->timestamp,
                       .pic_delta = e->pic_delta,
                       .tl0_delta = e->tl0_delta};
  rtp_vpx_ids ids = vpx_ids_of(st, kept, &h);
  size_t len = write_as_sent(s, slot, kept, kept_len, &h, st, &as, &ids);
  if (transport_queue_rtp(s->transport, slot, len) == 0)
    s->nacks_answered++;
  return true;
}

size_t session_answer_nack(media_session *s, session_stream *st, const rtcp_item *item,
                           uint64_t now) {
  size_t gone = 0;
  for (size_t i = 0; i < item->n_nacks; i++)
    gone += !st->sub.sent || !resend(s, st, item->nacks[i], now);
  return gone;
}

void session_on_dtmf_packet(media_session *s, const uint8_t *pkt, const rtp_header *h) {
  dtmf_event ev;
  if (dtmf_parse(pkt + h->payload_offset, h->payload_len, &ev) != 0 || !ev.end)
    return;
  /* The end packet is sent three times (RFC 4733 §2.5.1.4): report it once. */
  if (s->dtmf_seen && s->last_dtmf_ts == h->timestamp)
    return;
  s->dtmf_seen = true;
  s->last_dtmf_ts = h->timestamp;
  char digit[2] = {dtmf_digit(ev.event), 0};
  if (digit[0])
    s->post(s, MEDIA_EVENT_DTMF, digit);
}

void session_send_dtmf(media_session *s, const char *digits) {
  size_t have = strlen(s->dtmf_queue);
  for (const char *d = digits; *d && have + 1 < sizeof s->dtmf_queue; d++)
    if (dtmf_event_code(*d) >= 0)
      s->dtmf_queue[have++] = *d;
  s->dtmf_queue[have] = '\0';
}

static void send_dtmf_packet(media_session *s, bool start, bool end, uint16_t duration) {
  session_stream *st = &s->streams[STREAM_AUDIO];
  const sdp_choice *ch = choice_of(s, st);
  int code = dtmf_event_code(s->dtmf_queue[0]);
  if (code < 0)
    return;
  uint8_t pkt[64 + TRANSPORT_RTP_ROOM];
  size_t n = rtp_write_header(pkt, (uint8_t)ch->dtmf_pt, start, st->sub.next_seq++,
                              s->dtmf_ts, st->sub.ssrc);
  dtmf_event ev = {
      .event = (uint8_t)code, .end = end, .volume = 10, .duration = duration};
  n += dtmf_write(pkt + n, &ev);
  transport_send_rtp(s->transport, pkt, n);
}

/* RFC 4733 §2.5: a start packet, updates as the tone lasts, and the end three times. */
void session_dtmf_tick(media_session *s, uint64_t now) {
  session_stream *st = &s->streams[STREAM_AUDIO];
  if (!s->dtmf_queue[0] || st->choice < 0 || choice_of(s, st)->dtmf_pt < 0)
    return;
  if (!s->dtmf_started_ms) {
    if (now < s->dtmf_next_ms)
      return;
    s->dtmf_started_ms = now;
    /* The event starts on the audio stream's own 48 kHz timeline (one SSRC)... */
    s->dtmf_ts =
        st->sub.last_ts + (uint32_t)((now - st->sub.last_forward_ms) * 48000 / 1000);
    send_dtmf_packet(s, true, false, 0);
    return;
  }
  /* ...and lasts in units of the telephone-event clock agreed: 48000, or 8000 as
   * Firefox offers (100 ms: 4800 or 800), as libwebrtc's sender counts it. */
  uint64_t elapsed = now - s->dtmf_started_ms;
  uint16_t duration = (uint16_t)(elapsed * (uint64_t)choice_of(s, st)->dtmf_rate / 1000);
  if (elapsed < DTMF_DURATION_MS)
    return send_dtmf_packet(s, false, false, duration);
  for (int i = 0; i < 3; i++)
    send_dtmf_packet(s, false, true, duration);
  memmove(s->dtmf_queue, s->dtmf_queue + 1, strlen(s->dtmf_queue));
  s->dtmf_started_ms = 0;
  s->dtmf_next_ms = now + DTMF_GAP_MS;
}

void session_count_received(session_stream *st, const rtp_header *h, size_t len,
                            uint32_t clock, uint64_t now) {
  session_count_layer(&st->pub, h, len, clock, now);
}

void session_count_layer(session_pub *p, const rtp_header *h, size_t len, uint32_t clock,
                         uint64_t now) {
  if (!p->started) {
    p->started = true;
    rtp_stats_init(&p->stats, h->ssrc, clock);
  }
  rtp_stats_packet(&p->stats, h->seq, h->timestamp, len, now);
  p->meter_bytes += (uint32_t)len;
  p->last_ms = now;
}

void session_note_sender_report(media_session *s, const rtcp_item *item, uint64_t now) {
  for (int i = 0; i < STREAM_COUNT; i++) {
    session_stream *st = &s->streams[i];
    for (int l = 0; l < st->n_layers; l++) {
      session_pub *p = session_layer(st, l);
      if (p->started && p->ssrc == item->sender_ssrc)
        rtp_stats_sender_report(&p->stats, item->ntp_sec, item->ntp_frac, now);
    }
  }
}

#define MAX_REPORTED (STREAM_COUNT + SDP_MAX_LAYERS - 1)

void session_send_receiver_report(media_session *s, uint64_t now, uint64_t remb_bps) {
  rtcp_report_block blocks[MAX_REPORTED];
  uint32_t ssrcs[MAX_REPORTED];
  size_t n = 0;
  for (int i = 0; i < STREAM_COUNT; i++)
    for (int l = 0; l < s->streams[i].n_layers && n < MAX_REPORTED; l++) {
      session_pub *p = session_layer(&s->streams[i], l);
      if (!p->started)
        continue;
      rtp_stats_report_block(&p->stats, now, &blocks[n]);
      ssrcs[n++] = p->ssrc;
    }
  if (!n || !s->transport->srtp_ready)
    return;
  uint8_t pkt[256];
  size_t cap = sizeof pkt - SRTP_SESSION_OVERHEAD;
  size_t at = rtcp_write_rr(pkt, cap, s->rtcp_ssrc, blocks, n);
  if (!s->transport->twcc) /* with transport-cc the sender estimates by itself */
    at += rtcp_write_remb(pkt + at, cap - at, s->rtcp_ssrc, remb_bps, ssrcs, n);
  transport_send_rtcp(s->transport, pkt, at);
}

static void ntp_now(uint32_t *sec, uint32_t *frac) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  *sec = (uint32_t)((uint64_t)tv.tv_sec + 2208988800UL);
  *frac = (uint32_t)(((uint64_t)tv.tv_usec << 32) / 1000000);
}

void session_send_reports(media_session *s, uint64_t now) {
  rtcp_report_block blocks[STREAM_COUNT];
  size_t n_blocks = 0;
  for (int i = 0; i < STREAM_COUNT; i++)
    if (s->streams[i].pub.started)
      rtp_stats_report_block(&s->streams[i].pub.stats, now, &blocks[n_blocks++]);
  uint8_t pkt[512];
  size_t cap = sizeof pkt - SRTP_SESSION_OVERHEAD, at = 0;
  uint32_t sec, frac;
  ntp_now(&sec, &frac);
  bool first = true;
  uint32_t sdes_ssrc = s->rtcp_ssrc;
  for (int i = 0; i < STREAM_COUNT; i++) {
    session_stream *st = &s->streams[i];
    if (!st->sub.started)
      continue;
    uint32_t clock = i == STREAM_AUDIO ? 48000 : 90000;
    uint32_t ts =
        st->sub.last_ts + (uint32_t)((now - st->sub.last_forward_ms) * clock / 1000);
    at += rtcp_write_sr(pkt + at, cap - at, st->sub.ssrc, sec, frac, ts, st->sub.packets,
                        st->sub.octets, first ? blocks : NULL, first ? n_blocks : 0);
    if (first)
      sdes_ssrc = st->sub.ssrc;
    first = false;
  }
  if (first)
    at += rtcp_write_rr(pkt, cap, s->rtcp_ssrc, blocks, n_blocks);
  at += rtcp_write_sdes_cname(pkt + at, cap - at, sdes_ssrc, "parley");
  if (at)
    transport_send_rtcp(s->transport, pkt, at);
}

void session_on_connected(transport *t, void *ud) {
  (void)t;
  media_session *s = ud;
  s->post(s, MEDIA_EVENT_CONNECTED, "");
}

void session_on_failed(transport *t, const char *reason, void *ud) {
  (void)t;
  media_session *s = ud;
  s->post(s, MEDIA_EVENT_ENDED, reason);
}
