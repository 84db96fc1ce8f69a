/* twcc — transport-wide sequence numbers stamped into RTP, arrivals recorded and
 * reported as RTPFB FMT 15 feedback, the peer's feedback parsed and matched with the
 * log of what we sent. Every read of network bytes is bounded. */
#include "rtc/twcc.h"

#include "core/bytes.h"
#include "rtc/rtp.h"

#include <string.h>

#define PT_RTPFB 205
#define FMT_TWCC 15
#define DELTA_US 250        /* receive deltas count quarter milliseconds */
#define REF_TIME_US 64000   /* the reference time counts 64 ms */
#define RUN_LENGTH_MAX 8191 /* 13 bits */
#define FCI_HEADER 8        /* base seq, status count, reference time, fb count */
#define FEEDBACK_HEADER 12  /* RTCP header and the two SSRCs */
#define SYM_LOST 0
#define SYM_SMALL 1 /* received, delta 0..255 quarter ms: one byte */
#define SYM_LARGE 2 /* received, delta signed 16 bits: two bytes */

/* ---- receive side ---- */

void twcc_recv_init(twcc_recv *r) {
  memset(r, 0, sizeof *r);
  for (size_t i = 0; i < TWCC_RECV_SLOTS; i++)
    r->arrival_us[i] = -1;
}

static int64_t *slot_of(twcc_recv *r, int64_t seq) {
  return &r->arrival_us[(uint64_t)seq % TWCC_RECV_SLOTS];
}

void twcc_recv_packet(twcc_recv *r, uint16_t seq, uint32_t ssrc, int64_t arrival_us) {
  r->media_ssrc = ssrc;
  if (!r->started) {
    r->started = true;
    r->base = r->max = (int64_t)seq + 65536; /* unwrapped numbers stay positive */
    *slot_of(r, r->max) = arrival_us;
    return;
  }
  int64_t useq = r->max + (int16_t)(uint16_t)(seq - (uint16_t)r->max);
  if (useq < r->base)
    return; /* reported lost already */
  if (useq > r->max) {
    /* Slots between the old maximum and this one are not received (yet). */
    int64_t from = r->max + 1;
    if (useq - from > TWCC_RECV_SLOTS)
      from = useq - TWCC_RECV_SLOTS;
    for (int64_t s = from; s < useq; s++)
      *slot_of(r, s) = -1;
    r->max = useq;
    /* A jump further than the ring holds: the oldest are given up unreported. */
    if (r->max - r->base >= TWCC_RECV_SLOTS)
      r->base = r->max - TWCC_RECV_SLOTS + 1;
  }
  *slot_of(r, useq) = arrival_us;
}

bool twcc_recv_pending(const twcc_recv *r) { return r->started && r->base <= r->max; }

/* One chunk for the statuses from sym[i]: a run when 14 or more are alike, else a
 * vector of fourteen 1-bit or seven 2-bit symbols (beyond n it is padded with "lost",
 * which the status count tells the reader to ignore). Returns the symbols covered. */
static size_t write_chunk(const uint8_t *sym, size_t i, size_t n, uint8_t *out) {
  size_t run = 1;
  while (i + run < n && sym[i + run] == sym[i] && run < RUN_LENGTH_MAX)
    run++;
  if (run >= 14) {
    wr16(out, (uint16_t)((unsigned)sym[i] << 13 | run));
    return run;
  }
  bool small = true;
  for (size_t k = 0; k < 14 && i + k < n; k++)
    small = small && sym[i + k] != SYM_LARGE;
  uint16_t chunk;
  size_t take;
  if (small) {
    chunk = 0x8000;
    for (take = 0; take < 14 && i + take < n; take++)
      chunk |= (uint16_t)(sym[i + take] << (13 - take));
  } else {
    chunk = 0xC000;
    for (take = 0; take < 7 && i + take < n; take++)
      chunk |= (uint16_t)(sym[i + take] << (12 - 2 * take));
  }
  wr16(out, chunk);
  return take;
}

size_t twcc_recv_feedback(twcc_recv *r, uint32_t sender_ssrc, uint8_t *out, size_t cap) {
  if (!twcc_recv_pending(r))
    return 0;
  size_t n = (size_t)(r->max - r->base + 1);
  if (n > TWCC_FEEDBACK_MAX_PACKETS)
    n = TWCC_FEEDBACK_MAX_PACKETS;
  /* Worst case: a chunk and a two-byte delta per packet, and padding. */
  if (cap < FEEDBACK_HEADER + FCI_HEADER + 4 * n + 3)
    return 0;
  int64_t ref_us = -1;
  for (size_t i = 0; i < n && ref_us < 0; i++)
    ref_us = *slot_of(r, r->base + (int64_t)i);
  if (ref_us < 0)
    ref_us = *slot_of(r, r->max);
  int64_t ref = ref_us / REF_TIME_US;
  int64_t prev = ref * (REF_TIME_US / DELTA_US);
  uint8_t sym[TWCC_FEEDBACK_MAX_PACKETS];
  int16_t delta[TWCC_FEEDBACK_MAX_PACKETS];
  for (size_t i = 0; i < n; i++) {
    int64_t at = *slot_of(r, r->base + (int64_t)i);
    if (at < 0) {
      sym[i] = SYM_LOST;
      continue;
    }
    int64_t ticks = at / DELTA_US, d = ticks - prev;
    if (d < INT16_MIN || d > INT16_MAX) {
      n = i; /* reported from a new reference in the next packet */
      break;
    }
    sym[i] = d >= 0 && d <= 255 ? SYM_SMALL : SYM_LARGE;
    delta[i] = (int16_t)d;
    prev = ticks;
  }
  uint8_t *p = out + FEEDBACK_HEADER;
  wr16(p, (uint16_t)r->base);
  wr16(p + 2, (uint16_t)n);
  p[4] = (uint8_t)(ref >> 16);
  p[5] = (uint8_t)(ref >> 8);
  p[6] = (uint8_t)ref;
  p[7] = r->fb_count++;
  p += FCI_HEADER;
  for (size_t i = 0; i < n; p += 2)
    i += write_chunk(sym, i, n, p);
  for (size_t i = 0; i < n; i++)
    if (sym[i] == SYM_SMALL)
      *p++ = (uint8_t)delta[i];
    else if (sym[i] == SYM_LARGE)
      wr16(p, (uint16_t)delta[i]), p += 2;
  size_t len = (size_t)(p - out), pad = (4 - len % 4) % 4;
  for (size_t i = 0; i < pad; i++)
    *p++ = i + 1 == pad ? (uint8_t)pad : 0;
  len += pad;
  out[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | FMT_TWCC);
  out[1] = PT_RTPFB;
  wr16(out + 2, (uint16_t)(len / 4 - 1));
  wr32(out + 4, sender_ssrc);
  wr32(out + 8, r->media_ssrc);
  r->base += (int64_t)n;
  return len;
}

/* ---- parsing the feedback ---- */

typedef struct {
  const uint8_t *deltas;
  int64_t time_us;
  uint16_t seq;
  twcc_fb_cb cb;
  void *ud;
} emitter;

/* One status; with e NULL only the delta bytes it needs are counted. */
static void status(emitter *e, unsigned sym, size_t *delta_bytes) {
  *delta_bytes += sym == SYM_SMALL ? 1 : sym == SYM_LARGE ? 2 : 0;
  if (!e)
    return;
  if (sym == SYM_LOST) {
    e->cb(e->seq++, false, -1, e->ud);
    return;
  }
  int64_t d = sym == SYM_SMALL ? e->deltas[0] : (int16_t)rd16(e->deltas);
  e->deltas += sym == SYM_SMALL ? 1 : 2;
  e->time_us += d * DELTA_US;
  e->cb(e->seq++, true, e->time_us, e->ud);
}

/* Walks the chunks for count statuses; returns the offset after them, or 0 when the
 * chunks run out or name a reserved symbol. */
static size_t walk_chunks(const uint8_t *fci, size_t len, size_t count, emitter *e,
                          size_t *delta_bytes) {
  size_t at = FCI_HEADER, n = 0;
  *delta_bytes = 0;
  while (n < count) {
    if (len - at < 2)
      return 0;
    uint16_t chunk = rd16(fci + at);
    at += 2;
    if (!(chunk & 0x8000)) {
      unsigned sym = (chunk >> 13) & 3;
      size_t run = chunk & RUN_LENGTH_MAX;
      if (sym == 3)
        return 0;
      for (size_t k = 0; k < run && n < count; k++, n++)
        status(e, sym, delta_bytes);
    } else if (!(chunk & 0x4000)) {
      for (unsigned k = 0; k < 14 && n < count; k++, n++)
        status(e, (chunk >> (13 - k)) & 1, delta_bytes);
    } else {
      for (unsigned k = 0; k < 7 && n < count; k++, n++) {
        unsigned sym = (chunk >> (12 - 2 * k)) & 3;
        if (sym == 3)
          return 0;
        status(e, sym, delta_bytes);
      }
    }
  }
  return at;
}

int twcc_feedback_parse(const uint8_t *fci, size_t len, twcc_fb_header *hdr,
                        twcc_fb_cb cb, void *ud) {
  if (len < FCI_HEADER)
    return -1;
  twcc_fb_header h = {.base_seq = rd16(fci),
                      .status_count = rd16(fci + 2),
                      .ref_time = rd24(fci + 4),
                      .fb_count = fci[7]};
  if (h.status_count == 0)
    return -1;
  size_t delta_bytes;
  size_t at = walk_chunks(fci, len, h.status_count, NULL, &delta_bytes);
  if (!at || len - at < delta_bytes)
    return -1;
  if (hdr)
    *hdr = h;
  if (cb) {
    emitter e = {.deltas = fci + at,
                 .time_us = (int64_t)h.ref_time * REF_TIME_US,
                 .seq = h.base_seq,
                 .cb = cb,
                 .ud = ud};
    walk_chunks(fci, len, h.status_count, &e, &delta_bytes);
  }
  return h.status_count;
}

/* ---- send side ---- */

void twcc_send_note(twcc_send *s, uint16_t seq, int64_t send_us, size_t size) {
  twcc_sent_entry *e = &s->log[seq % TWCC_SENT_SLOTS];
  *e = (twcc_sent_entry){.send_us = send_us,
                         .seq = seq,
                         .size = (uint16_t)(size > UINT16_MAX ? UINT16_MAX : size),
                         .used = true};
}

typedef struct {
  twcc_send *s;
  twcc_result batch[256];
  size_t n, matched;
  twcc_results_cb cb;
  void *ud;
} matcher;

static void match_one(uint16_t seq, bool received, int64_t arrival_us, void *ud) {
  matcher *m = ud;
  twcc_sent_entry *e = &m->s->log[seq % TWCC_SENT_SLOTS];
  if (!e->used || e->seq != seq || e->acked)
    return;
  e->acked = true;
  m->batch[m->n++] = (twcc_result){
      .send_us = e->send_us, .recv_us = received ? arrival_us : -1, .size = e->size};
  m->matched++;
  if (m->n == sizeof m->batch / sizeof m->batch[0]) {
    m->cb(m->batch, m->n, m->ud);
    m->n = 0;
  }
}

int twcc_send_on_feedback(twcc_send *s, const uint8_t *fci, size_t len,
                          twcc_results_cb cb, void *ud) {
  static _Thread_local matcher m; /* 6 KiB: off the media loop's stack */
  m.s = s;
  m.n = m.matched = 0;
  m.cb = cb;
  m.ud = ud;
  if (twcc_feedback_parse(fci, len, NULL, match_one, &m) < 0)
    return -1;
  if (m.n)
    cb(m.batch, m.n, ud);
  return (int)m.matched;
}

/* ---- stamping ---- */

size_t twcc_copy_stripped(uint8_t *dst, const uint8_t *pkt, size_t len,
                          const rtp_header *h, uint8_t id) {
  size_t head = 12 + 4 * (size_t)h->csrc_count, rest = len - h->header_len;
  memcpy(dst, pkt, head);
  dst[0] &= (uint8_t)~0x10;
  if (id >= 1 && id <= 14) {
    const uint8_t block[8] = {0xBE, 0xDE, 0x00, 0x01, (uint8_t)(id << 4 | 1), 0, 0, 0};
    memcpy(dst + head, block, sizeof block);
    dst[0] |= 0x10;
    head += sizeof block;
  }
  memcpy(dst + head, pkt + h->header_len, rest);
  return head + rest;
}

size_t twcc_stamp(uint8_t *pkt, size_t len, uint8_t id, uint16_t seq) {
  rtp_header h;
  if (id == 0 || id > 14 || rtp_parse(pkt, len, &h) != 0)
    return 0;
  const uint8_t *data;
  size_t n;
  if (rtp_ext_find(pkt, &h, id, &data, &n) == 0) {
    if (n != 2)
      return 0;
    wr16(pkt + (data - pkt), seq);
    return len;
  }
  uint8_t elem[4] = {(uint8_t)(id << 4 | 1), (uint8_t)(seq >> 8), (uint8_t)seq, 0};
  if (!h.ext_offset) {
    size_t off = 12 + (size_t)h.csrc_count * 4;
    memmove(pkt + off + TWCC_EXT_ROOM, pkt + off, len - off);
    static const uint8_t block[4] = {0xBE, 0xDE, 0x00, 0x01};
    memcpy(pkt + off, block, 4);
    memcpy(pkt + off + 4, elem, 4);
    pkt[0] |= 0x10;
    return len + TWCC_EXT_ROOM;
  }
  if (h.ext_profile != 0xBEDE)
    return 0; /* two-byte elements: not ours to rewrite */
  size_t end = h.ext_offset + h.ext_len;
  memmove(pkt + end + 4, pkt + end, len - end);
  memcpy(pkt + end, elem, 4);
  wr16(pkt + h.ext_offset - 2, (uint16_t)(h.ext_len / 4 + 1));
  return len + 4;
}
