/* rtp_renumber — renumbering a forwarded stream across switches of source. Chromium's
 * simulcast layers keep picture ids of their own (seen on Chromium 156: layers 0 and 1
 * at 18145, layer 2 at 24498), so a layer switch that kept them jumped the picture id
 * by thousands; the VP8 decoder took the jump for lost frames and the picture froze
 * until the next keyframe: 1.2-1.6 s stalls at switches, 550 ms at most with them
 * carried on (tests/browser/multistream.test.mjs; tests/tools/simulcast_probe.c checks
 * every number across switches). */
#include "rtc/rtp_renumber.h"

#include "core/ids.h"

/* The picture id at *i, 7 bits or (its M bit set) 15, as both codecs write it; *i moves
 * past it. -1 when the payload ends inside it. */
static int read_pic(const uint8_t *p, size_t n, size_t *i, rtp_vpx_ids *ids) {
  size_t at = *i;
  if (at >= n || ((p[at] & 0x80) && at + 1 >= n))
    return -1;
  ids->has_pic = true;
  ids->pic_15bit = p[at] & 0x80;
  ids->pic = ids->pic_15bit ? (uint16_t)((p[at] & 0x7f) << 8 | p[at + 1]) : p[at];
  ids->pic_at = (uint8_t)at;
  *i = at + (ids->pic_15bit ? 2 : 1);
  return 0;
}

/* VP8: X R N S R PID, then I L T K RSV when X; the picture id (M bit: 15 bits) and
 * TL0PICIDX follow in that order. */
static int vp8_ids(const uint8_t *p, size_t n, rtp_vpx_ids *ids) {
  if (n < 1)
    return -1;
  if (!(p[0] & 0x80))
    return 0;
  if (n < 2)
    return -1;
  uint8_t x = p[1];
  size_t i = 2;
  if ((x & 0x80) && read_pic(p, n, &i, ids) != 0)
    return -1;
  if (x & 0x40) {
    if (i >= n)
      return -1;
    ids->has_tl0 = true;
    ids->tl0 = p[i];
    ids->tl0_at = (uint8_t)i;
  }
  return 0;
}

/* VP9: I P L F B E V Z; the picture id when I, then with L the layer byte and, in
 * non-flexible mode (F clear), TL0PICIDX. */
static int vp9_ids(const uint8_t *p, size_t n, rtp_vpx_ids *ids) {
  if (n < 1)
    return -1;
  size_t i = 1;
  if ((p[0] & 0x80) && read_pic(p, n, &i, ids) != 0)
    return -1;
  if ((p[0] & 0x20) && !(p[0] & 0x10)) {
    if (i + 1 >= n)
      return -1;
    ids->has_tl0 = true;
    ids->tl0 = p[i + 1];
    ids->tl0_at = (uint8_t)(i + 1);
  }
  return 0;
}

int rtp_vpx_ids_read(const uint8_t *payload, size_t len, rtp_codec codec,
                     rtp_vpx_ids *ids) {
  *ids = (rtp_vpx_ids){0};
  int rc = 0;
  if (codec == RTP_CODEC_VP8)
    rc = vp8_ids(payload, len, ids);
  else if (codec == RTP_CODEC_VP9)
    rc = vp9_ids(payload, len, ids);
  if (rc != 0)
    *ids = (rtp_vpx_ids){0};
  return rc;
}

void rtp_vpx_ids_shift(uint8_t *payload, const rtp_vpx_ids *ids, uint16_t pic_delta,
                       uint8_t tl0_delta) {
  if (ids->has_pic) {
    uint8_t *at = payload + ids->pic_at;
    if (ids->pic_15bit) {
      uint16_t pic = (uint16_t)((ids->pic + pic_delta) & 0x7fff);
      at[0] = (uint8_t)(0x80 | pic >> 8);
      at[1] = (uint8_t)pic;
    } else {
      at[0] = (uint8_t)((ids->pic + pic_delta) & 0x7f);
    }
  }
  if (ids->has_tl0)
    payload[ids->tl0_at] = (uint8_t)(ids->tl0 + tl0_delta);
}

void rtp_renumber_init(rtp_renumber *r) {
  ids_random(r, sizeof *r);
  r->started = false;
  r->last_ms = 0;
}

/* The timestamp step at a switch: the wall time since the last packet, 33 ms (a frame
 * at 30/s) when none went out yet, within 1 ms and 60 s. */
static uint32_t switch_step(const rtp_renumber *r, uint32_t clock_hz, uint64_t now) {
  uint64_t ms = !r->last_ms ? 33 : now <= r->last_ms ? 1 : now - r->last_ms;
  return (uint32_t)((ms < 60000 ? ms : 60000) * clock_hz / 1000);
}

static bool pic_newer(uint16_t a, uint16_t b, bool bits15) {
  uint16_t mask = bits15 ? 0x7fff : 0x7f;
  uint16_t d = (uint16_t)((a - b) & mask);
  return d != 0 && d <= mask / 2;
}

rtp_renumbered rtp_renumber_next(rtp_renumber *r, const rtp_header *h,
                                 const rtp_vpx_ids *ids, uint32_t clock_hz,
                                 uint64_t now) {
  if (!r->started) {
    r->seq_delta = (uint16_t)(r->last_seq + 1 - h->seq);
    r->ts_delta = r->last_ts + switch_step(r, clock_hz, now) - h->timestamp;
    if (ids->has_pic)
      r->pic_delta = (uint16_t)(r->last_pic + 1 - ids->pic);
    if (ids->has_tl0)
      r->tl0_delta = (uint8_t)(r->last_tl0 + 1 - ids->tl0);
  }
  rtp_renumbered as = {.seq = (uint16_t)(h->seq + r->seq_delta),
                       .ts = h->timestamp + r->ts_delta,
                       .pic_delta = r->pic_delta,
                       .tl0_delta = r->tl0_delta};
  /* The newest numbers are kept, so a reordered packet before a switch cannot make the
   * new source start on numbers already sent. */
  if (!r->started || rtp_seq_newer(as.seq, r->last_seq)) {
    r->last_seq = as.seq;
    r->last_ts = as.ts;
    r->last_ms = now;
  }
  if (ids->has_pic) {
    uint16_t pic =
        (uint16_t)((ids->pic + as.pic_delta) & (ids->pic_15bit ? 0x7fff : 0x7f));
    if (!r->started || pic_newer(pic, r->last_pic, ids->pic_15bit))
      r->last_pic = pic;
  }
  if (ids->has_tl0) {
    uint8_t tl0 = (uint8_t)(ids->tl0 + as.tl0_delta);
    if (!r->started || (tl0 != r->last_tl0 && (uint8_t)(tl0 - r->last_tl0) < 0x80))
      r->last_tl0 = tl0;
  }
  r->started = true;
  return as;
}
