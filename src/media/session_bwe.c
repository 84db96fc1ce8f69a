/* session_bwe — transport-cc glue between a call's transport (rtc/twcc.c) and the
 * estimator (bwe.c): feedback out every 50 ms, feedback in to the estimate, probing. */
#include "media/session_bwe.h"

#include "core/ids.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define FEEDBACK_MS 50
#define PADDING_BYTES 255       /* the most an RTP padding count can say */
#define MAX_PADDING_PER_TICK 40 /* packets: ~4 Mbit/s at 20 ms ticks */
#define VIDEO_RECENT_MS 1000    /* probing only toward someone we send video to */

static void on_results(const twcc_result *r, size_t n, void *ud) {
  media_session *s = ud;
  if (s->bwe)
    bwe_on_results(&s->bwe->est, r, n, uv_now(s->transport->loop));
}

void session_bwe_attach(media_session *s) {
  uint8_t id = 0;
  for (size_t i = 0; i < s->params.agreed.n_media && !id; i++)
    if (s->params.agreed.media[i].accepted)
      id = s->params.agreed.media[i].ext_transport_cc;
  if (!id) {
    transport_set_twcc(s->transport, 0, NULL, NULL);
    session_bwe_free(s);
    return;
  }
  if (!s->bwe) {
    s->bwe = xcalloc(1, sizeof *s->bwe);
    bwe_init(&s->bwe->est);
    ids_random(&s->bwe->rtx_seq, sizeof s->bwe->rtx_seq);
  }
  transport_set_twcc(s->transport, id, on_results, s);
}

void session_bwe_free(media_session *s) {
  free(s->bwe);
  s->bwe = NULL;
}

void session_bwe_probe_soon(media_session *s, uint64_t wanted_bps, uint64_t now) {
  if (s->bwe)
    bwe_probe_soon(&s->bwe->est, wanted_bps, now);
}

uint64_t session_send_estimate_bps(const media_session *s) {
  return s->bwe ? bwe_estimate_bps(&s->bwe->est) : 0;
}

/* What arrived since the last feedback, in as many packets as it takes (each padded,
 * so each rides last in a compound behind an empty RR). */
static void send_feedback(media_session *s) {
  transport *t = s->transport;
  for (int i = 0; i < 4 && twcc_recv_pending(&t->twcc->recv); i++) {
    uint8_t pkt[1400 + SRTP_SESSION_OVERHEAD];
    size_t cap = sizeof pkt - SRTP_SESSION_OVERHEAD;
    size_t at = rtcp_write_rr(pkt, cap, s->rtcp_ssrc, NULL, 0);
    size_t n = twcc_recv_feedback(&t->twcc->recv, s->rtcp_ssrc, pkt + at, cap - at);
    if (!n)
      break;
    transport_send_rtcp(t, pkt, at + n);
    t->twcc->feedback_out++;
  }
}

/* The stream padding rides on: video with RTX, which we send. */
static const sdp_choice *padding_stream(const media_session *s) {
  const session_stream *st = &s->streams[STREAM_VIDEO];
  if (st->choice < 0 || !s->params.video_rtx_ssrc)
    return NULL;
  const sdp_choice *ch = &s->params.agreed.media[st->choice];
  bool sends = ch->direction == SDP_SENDRECV || ch->direction == SDP_SENDONLY;
  return sends && ch->rtx_pt >= 0 ? ch : NULL;
}

/* A padding-only RTX packet (RFC 3550 §5.1 padding, no payload): the receiver drops
 * it after counting it for its feedback. */
static size_t send_padding(media_session *s, const sdp_choice *ch) {
  uint8_t *slot = transport_rtp_slot(s->transport);
  if (!slot)
    return 0;
  size_t n = rtp_write_header(slot, (uint8_t)ch->rtx_pt, false, s->bwe->rtx_seq++,
                              s->video_out.last_ts, s->params.video_rtx_ssrc);
  slot[0] |= 0x20;
  memset(slot + n, 0, PADDING_BYTES - 1);
  slot[n + PADDING_BYTES - 1] = PADDING_BYTES;
  n += PADDING_BYTES;
  if (transport_queue_rtp(s->transport, slot, n) != 0)
    return 0;
  s->bwe->padding_packets++;
  return n;
}

static bool video_recent(media_session *s, uint64_t now) {
  session_bwe *b = s->bwe;
  uint32_t sent =
      s->streams[STREAM_VIDEO].sub.packets + s->streams[STREAM_SLIDES].sub.packets;
  if (sent != b->last_video_packets) {
    b->last_video_packets = sent;
    b->video_seen_ms = now;
  }
  return b->video_seen_ms && now - b->video_seen_ms < VIDEO_RECENT_MS;
}

/* While a probe runs, padding fills what media left of the probe's rate: the media
 * sent during the last tick predicts this one's. */
static void probe(media_session *s, uint64_t now) {
  session_bwe *b = s->bwe;
  transport *t = s->transport;
  uint64_t out = t->counters.bytes_out, dt = now - b->last_tick_ms;
  uint64_t media = out - b->last_bytes_out - b->padding_last_tick;
  bool fresh = b->last_tick_ms && dt > 0 && dt <= 200;
  b->last_tick_ms = now;
  b->last_bytes_out = out;
  b->padding_last_tick = 0;
  const sdp_choice *ch = padding_stream(s);
  if (!fresh || !ch || s->params.mode != MEDIA_CONFERENCE || !video_recent(s, now))
    return;
  uint64_t rate = bwe_probe_rate(&b->est, now);
  uint64_t want = rate * dt / 8000;
  if (!rate || want <= media)
    return;
  uint64_t owed = want - media, sent = 0;
  for (int i = 0; i < MAX_PADDING_PER_TICK && sent < owed; i++) {
    size_t n = send_padding(s, ch);
    if (!n)
      break;
    sent += n;
  }
  b->padding_last_tick = t->counters.bytes_out - out;
  b->padding_bytes += b->padding_last_tick;
}

void session_bwe_tick(media_session *s, uint64_t now) {
  if (!s->bwe || !s->transport->twcc || !s->transport->srtp_ready)
    return;
  if (now - s->bwe->last_feedback_ms >= FEEDBACK_MS) {
    s->bwe->last_feedback_ms = now;
    send_feedback(s);
  }
  probe(s, now);
}
