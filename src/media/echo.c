/* echo — test-call router: a participant's media comes back to it, rewritten. */
#include "media/echo.h"

#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define RTCP_INTERVAL_MS 1000

static uint32_t random_u32(void) {
  uint32_t v;
  ids_random(&v, sizeof v);
  return v;
}

/* Sends pkt back, rewritten in place: our SSRC; audio numbered by us (DTMF packets are
 * inserted), video by a fixed offset so the sender's losses stay visible. */
static void forward(media_session *s, session_stream *st, uint8_t *pkt, size_t len,
                    const rtp_header *h, uint64_t now) {
  bool audio = st == &s->streams[STREAM_AUDIO];
  if (!st->pub.started) {
    st->pub.started = st->sub.started = true;
    st->sub.seq_delta = (uint16_t)(random_u32() - h->seq);
    st->sub.next_seq = (uint16_t)random_u32();
    rtp_stats_init(&st->pub.stats, h->ssrc, audio ? 48000 : 90000);
  }
  rtp_stats_packet(&st->pub.stats, h->seq, h->timestamp, len, now);
  uint16_t seq = audio ? st->sub.next_seq++ : (uint16_t)(h->seq + st->sub.seq_delta);
  if (!audio) { /* kept as received, before the rewrite below */
    session_keep_received(st, pkt, len, h, now);
    session_note_echoed(st, h->seq, seq, h->timestamp, now);
  }
  rtp_set_ssrc(pkt, st->sub.ssrc);
  rtp_set_seq(pkt, seq);
  st->sub.last_ts = h->timestamp;
  st->sub.last_forward_ms = now;
  st->sub.packets++;
  st->sub.octets += (uint32_t)h->payload_len;
  transport_send_rtp(s->transport, pkt, len);
}

static void on_rtp(transport *t, uint8_t *pkt, size_t len, const rtp_header *h,
                   void *ud) {
  media_session *s = ud;
  bool repair;
  session_stream *st = session_stream_for(s, pkt, h, &repair);
  if (!st || repair)
    return; /* retransmissions and padding probes for our own NACKs: none sent */
  uint64_t now = uv_now(t->loop);
  const sdp_choice *ch = &s->params.agreed.media[st->choice];
  if (st == &s->streams[STREAM_AUDIO] && h->payload_type == ch->dtmf_pt)
    session_on_dtmf_packet(s, pkt, h);
  else if (h->payload_type != ch->pt)
    return;
  if (st != &s->streams[STREAM_AUDIO] && !st->pub.keyframe_seen) {
    if (rtp_is_keyframe_start(pkt, h, st->codec))
      st->pub.keyframe_seen = true;
    else
      session_request_keyframe(s, st, now);
  }
  forward(s, st, pkt, len, h, now);
}

/* What is echoed on st waits for a keyframe, which is asked for. */
static void want_keyframe(media_session *s, session_stream *st, uint64_t now) {
  st->pub.keyframe_seen = false;
  session_request_keyframe(s, st, now);
}

static void on_rtcp(transport *t, const rtcp_item *item, void *ud) {
  media_session *s = ud;
  uint64_t now = uv_now(t->loop);
  session_stream *ours = session_stream_by_local_ssrc(s, item->media_ssrc);
  bool video = ours && ours != &s->streams[STREAM_AUDIO];
  switch (item->kind) {
  case RTCP_PLI:
  case RTCP_FIR:
    /* The subscriber (the same browser) wants a keyframe of what we send it: ask
     * the publisher (that browser again) for one. */
    if (video)
      want_keyframe(s, ours, now);
    break;
  case RTCP_NACK:
    /* A hole we cannot fill is mended by a keyframe, as in conference.c. */
    if (ours && session_answer_nack(s, ours, item, now) > 0 && video)
      want_keyframe(s, ours, now);
    break;
  case RTCP_SR:
    session_note_sender_report(s, item, now);
    break;
  default:
    break;
  }
}

void echo_router_tick(media_session *s, uint64_t now) {
  if (!s->transport || !s->transport->srtp_ready)
    return;
  session_dtmf_tick(s, now);
  for (int i = STREAM_VIDEO; i < STREAM_COUNT; i++)
    if (s->streams[i].pub.started && !s->streams[i].pub.keyframe_seen)
      session_request_keyframe(s, &s->streams[i], now);
  if (now - s->last_rtcp_ms >= RTCP_INTERVAL_MS) {
    s->last_rtcp_ms = now;
    session_send_reports(s, now);
  }
}

static void dc_state(sctp_assoc *a, bool up, void *ud) {
  media_session *s = ud;
  log_info("media", "call %s: data channels %s", s->params.call_uuid, up ? "up" : "gone");
}

static void dc_open(sctp_assoc *a, const sctp_channel_info *ch, void *ud) {
  media_session *s = ud;
  log_debug("media", "call %s: data channel %u \"%s\" open (type %#x)",
            s->params.call_uuid, ch->id, ch->label, ch->channel_type);
}

/* The echo: the same bytes, the same kind (string or binary), the same channel (so
 * its ordering and reliability). A full send buffer holds the echo and stops reading
 * the association until it went out (on_writable): the peer's window closes, so a
 * sender faster than what it reads back is slowed down, and nothing is dropped. */
static void dc_message(sctp_assoc *a, uint16_t id, bool binary, const uint8_t *data,
                       size_t len, void *ud) {
  media_session *s = ud;
  if (sctp_send(a, id, binary, data, len) != SCTP_E_AGAIN)
    return;
  s->dc_held = xmalloc(len ? len : 1);
  memcpy(s->dc_held, data, len);
  s->dc_held_len = len;
  s->dc_held_id = id;
  s->dc_held_binary = binary;
  sctp_pause_reading(a, true);
}

static void dc_writable(sctp_assoc *a, void *ud) {
  media_session *s = ud;
  if (!s->dc_held)
    return;
  if (sctp_send(a, s->dc_held_id, s->dc_held_binary, s->dc_held, s->dc_held_len) ==
      SCTP_E_AGAIN)
    return;         /* still no room for it: the next acknowledgement tells again */
  free(s->dc_held); /* sent, or its channel is gone */
  s->dc_held = NULL;
  sctp_pause_reading(a, false);
}

static void dc_close(sctp_assoc *a, uint16_t id, const char *reason, void *ud) {
  media_session *s = ud;
  log_debug("media", "call %s: data channel %u closed%s%s", s->params.call_uuid, id,
            reason ? ": " : "", reason ? reason : "");
}

void echo_router_update(media_session *s) {
  const sdp_choice *dc = sdp_agreement_data(&s->params.agreed);
  if (!dc || s->transport->sctp)
    return;
  static const sctp_callbacks cb = {dc_state, dc_open, dc_message, dc_close, dc_writable};
  sctp_config cfg = sctp_config_default(dc->sctp_port, dc->max_message_size, false);
  transport_enable_sctp(s->transport, &cfg, &cb, s);
}

transport_sink echo_router_join(media_session *s) {
  session_init(s);
  echo_router_update(s);
  return (transport_sink){session_on_connected, on_rtp, on_rtcp, session_on_failed};
}
