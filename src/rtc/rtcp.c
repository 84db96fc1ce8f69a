/* rtcp — RTCP compound parsing (validated whole before any callback runs) into SR, RR,
 * SDES, BYE, NACK, PLI, FIR, REMB and TWCC items, and writers for what we send. */
#include "rtc/rtcp.h"

#include "core/bytes.h"

#include <string.h>

enum {
  PT_SR = 200,
  PT_RR = 201,
  PT_SDES = 202,
  PT_BYE = 203,
  PT_RTPFB = 205,
  PT_PSFB = 206
};
enum { FMT_NACK = 1, FMT_TWCC = 15, FMT_PLI = 1, FMT_FIR = 4, FMT_AFB = 15 };

#define BLOCK_LEN 24
#define SR_INFO_LEN 24  /* sender SSRC + sender info */
#define FB_COMMON_LEN 8 /* sender SSRC + media source SSRC */

/* ---- parsing ---- */

/* Items are built in one scratch item and handed out as they complete; with cb NULL
 * the same walk only validates and counts. */
typedef struct {
  rtcp_item_cb cb;
  void *ud;
  int count;
  rtcp_item item;
} emitter;

static rtcp_item *start_item(emitter *e, rtcp_kind kind, uint32_t sender) {
  memset(&e->item, 0, sizeof e->item);
  e->item.kind = kind;
  e->item.sender_ssrc = sender;
  return &e->item;
}

static void emit(emitter *e) {
  e->count++;
  if (e->cb)
    e->cb(&e->item, e->ud);
}

static void read_block(const uint8_t *p, rtcp_report_block *b) {
  b->ssrc = rd32(p);
  b->fraction_lost = p[4];
  uint32_t lost = rd24(p + 5); /* 24-bit two's complement */
  b->cumulative_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
  b->highest_seq = rd32(p + 8);
  b->jitter = rd32(p + 12);
  b->lsr = rd32(p + 16);
  b->dlsr = rd32(p + 20);
}

/* SR and RR: report blocks follow the sender part; anything after them is a
 * profile-specific extension we skip. */
static int parse_report(emitter *e, bool sr, const uint8_t *p, size_t n, uint8_t rc) {
  size_t head = sr ? SR_INFO_LEN : 4;
  if (n < head + (size_t)rc * BLOCK_LEN)
    return -1;
  rtcp_item *it = start_item(e, sr ? RTCP_SR : RTCP_RR, rd32(p));
  if (sr) {
    it->ntp_sec = rd32(p + 4);
    it->ntp_frac = rd32(p + 8);
    it->rtp_ts = rd32(p + 12);
    it->packet_count = rd32(p + 16);
    it->octet_count = rd32(p + 20);
  }
  for (size_t i = 0; i < rc; i++)
    read_block(p + head + i * BLOCK_LEN, &it->blocks[i]);
  it->n_blocks = rc;
  emit(e);
  return 0;
}

/* SDES (§6.5): chunks of SSRC, items (type, length, text), a null octet, and padding
 * to a 32-bit boundary. Checked for bounds, reported as one item. */
static int parse_sdes(emitter *e, const uint8_t *p, size_t n, uint8_t sc) {
  size_t i = 0;
  for (size_t c = 0; c < sc; c++) {
    if (n - i < 4)
      return -1;
    i += 4;
    for (;;) {
      if (i >= n)
        return -1;
      if (p[i] == 0)
        break;
      if (n - i < 2 || n - i - 2 < p[i + 1])
        return -1;
      i += 2 + (size_t)p[i + 1];
    }
    i = (i + 4) & ~(size_t)3; /* past the null octet, to the next boundary */
    if (i > n)
      return -1;
  }
  start_item(e, RTCP_SDES, sc > 0 ? rd32(p) : 0);
  emit(e);
  return 0;
}

/* BYE (§6.6): one item per SSRC leaving; an optional length-prefixed reason. */
static int parse_bye(emitter *e, const uint8_t *p, size_t n, uint8_t sc) {
  size_t ids = (size_t)sc * 4;
  if (n < ids || (n > ids && n - ids - 1 < p[ids]))
    return -1;
  for (size_t i = 0; i < sc; i++) {
    start_item(e, RTCP_BYE, rd32(p + 4 * i));
    emit(e);
  }
  return 0;
}

static void add_nack(emitter *e, uint16_t seq) {
  rtcp_item *it = &e->item;
  if (it->n_nacks == RTCP_MAX_NACKS) { /* full: hand it out and go on in a new one */
    uint32_t sender = it->sender_ssrc, media = it->media_ssrc;
    emit(e);
    start_item(e, RTCP_NACK, sender)->media_ssrc = media;
  }
  it->nacks[it->n_nacks++] = seq;
}

/* RFC 4585 §6.2.1: each FCI is a PID and a bitmask of the 16 following seqs. */
static int parse_nack(emitter *e, const uint8_t *p, size_t n) {
  size_t fci = n - FB_COMMON_LEN;
  if (fci == 0 || fci % 4 != 0)
    return -1;
  start_item(e, RTCP_NACK, rd32(p))->media_ssrc = rd32(p + 4);
  for (size_t at = FB_COMMON_LEN; at < n; at += 4) {
    uint16_t pid = rd16(p + at), blp = rd16(p + at + 2);
    add_nack(e, pid);
    for (unsigned bit = 0; bit < 16; bit++)
      if (blp & (1u << bit))
        add_nack(e, (uint16_t)(pid + bit + 1));
  }
  emit(e);
  return 0;
}

static int parse_rtpfb(emitter *e, const uint8_t *p, size_t n, uint8_t fmt) {
  if (n < FB_COMMON_LEN)
    return -1;
  if (fmt == FMT_NACK)
    return parse_nack(e, p, n);
  rtcp_item *it = start_item(e, fmt == FMT_TWCC ? RTCP_TWCC : RTCP_OTHER, rd32(p));
  it->media_ssrc = rd32(p + 4);
  if (fmt == FMT_TWCC) {
    it->fci = p + FB_COMMON_LEN;
    it->fci_len = n - FB_COMMON_LEN;
  }
  emit(e);
  return 0;
}

/* RFC 5104 §4.3.1: FCI entries of target SSRC, sequence number, 3 reserved bytes. */
static int parse_fir(emitter *e, const uint8_t *p, size_t n) {
  size_t fci = n - FB_COMMON_LEN;
  if (fci == 0 || fci % 8 != 0)
    return -1;
  for (size_t at = FB_COMMON_LEN; at < n; at += 8) {
    rtcp_item *it = start_item(e, RTCP_FIR, rd32(p));
    it->media_ssrc = rd32(p + at);
    it->fir_seq = p[at + 4];
    emit(e);
  }
  return 0;
}

/* draft-alvestrand-rmcat-remb: "REMB", SSRC count, 6-bit exponent and 18-bit
 * mantissa, then the SSRCs. Other application-layer feedback is RTCP_OTHER. */
static int parse_afb(emitter *e, const uint8_t *p, size_t n) {
  const uint8_t *f = p + FB_COMMON_LEN;
  size_t fci = n - FB_COMMON_LEN;
  if (fci < 8 || memcmp(f, "REMB", 4) != 0) {
    start_item(e, RTCP_OTHER, rd32(p))->media_ssrc = rd32(p + 4);
    emit(e);
    return 0;
  }
  size_t count = f[4];
  if (fci - 8 < count * 4)
    return -1;
  rtcp_item *it = start_item(e, RTCP_REMB, rd32(p));
  it->media_ssrc = rd32(p + 4);
  unsigned exp = f[5] >> 2;
  uint64_t mantissa = rd24(f + 5) & 0x3ffff;
  /* A mantissa below 2^18 shifted by up to 63 can overflow: saturate instead. */
  bool overflow = exp > 46 && (mantissa >> (64 - exp)) != 0;
  it->remb_bps = overflow ? UINT64_MAX : mantissa << exp;
  it->n_remb_ssrcs = count < RTCP_MAX_REMB_SSRCS ? count : RTCP_MAX_REMB_SSRCS;
  for (size_t i = 0; i < it->n_remb_ssrcs; i++)
    it->remb_ssrcs[i] = rd32(f + 8 + 4 * i);
  emit(e);
  return 0;
}

static int parse_psfb(emitter *e, const uint8_t *p, size_t n, uint8_t fmt) {
  if (n < FB_COMMON_LEN)
    return -1;
  if (fmt == FMT_FIR)
    return parse_fir(e, p, n);
  if (fmt == FMT_AFB)
    return parse_afb(e, p, n);
  start_item(e, fmt == FMT_PLI ? RTCP_PLI : RTCP_OTHER, rd32(p))->media_ssrc =
      rd32(p + 4);
  emit(e);
  return 0;
}

/* One packet's body (after the 4-byte header, without padding). */
static int parse_packet(emitter *e, uint8_t count, uint8_t pt, const uint8_t *p,
                        size_t n) {
  switch (pt) {
  case PT_SR:
  case PT_RR:
    return parse_report(e, pt == PT_SR, p, n, count);
  case PT_SDES:
    return parse_sdes(e, p, n, count);
  case PT_BYE:
    return parse_bye(e, p, n, count);
  case PT_RTPFB:
    return parse_rtpfb(e, p, n, count);
  case PT_PSFB:
    return parse_psfb(e, p, n, count);
  default: /* APP, XR and the rest: known to be there, not decoded */
    start_item(e, RTCP_OTHER, n >= 4 ? rd32(p) : 0);
    emit(e);
    return 0;
  }
}

/* The compound must be packets whose lengths add up exactly to len; only the last
 * may carry padding (RFC 3550 §6.4.1), counted by its final octet. */
static int walk(const uint8_t *pkt, size_t len, emitter *e) {
  if (len < 4)
    return -1;
  for (size_t off = 0; off < len;) {
    const uint8_t *h = pkt + off;
    if (len - off < 4 || h[0] >> 6 != 2)
      return -1;
    size_t size = ((size_t)rd16(h + 2) + 1) * 4;
    if (len - off < size)
      return -1;
    size_t body = size - 4;
    if (h[0] & 0x20) {
      uint8_t pad = h[size - 1];
      if (off + size != len || pad == 0 || pad > body)
        return -1;
      body -= pad;
    }
    if (parse_packet(e, h[0] & 0x1f, h[1], h + 4, body) != 0)
      return -1;
    off += size;
  }
  return e->count;
}

int rtcp_parse(const uint8_t *pkt, size_t len, rtcp_item_cb cb, void *ud) {
  emitter e = {.cb = NULL};
  if (walk(pkt, len, &e) < 0)
    return -1;
  e.cb = cb;
  e.ud = ud;
  e.count = 0;
  return walk(pkt, len, &e);
}

/* ---- writing ---- */

/* The common header; total is the packet's size in bytes, a multiple of 4. */
static void write_header(uint8_t *out, uint8_t count, uint8_t pt, size_t total) {
  out[0] = (uint8_t)(0x80 | (count & 0x1f));
  out[1] = pt;
  wr16(out + 2, (uint16_t)(total / 4 - 1));
}

static void write_block(uint8_t *p, const rtcp_report_block *b) {
  int32_t lost = b->cumulative_lost;
  lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : lost;
  wr32(p, b->ssrc);
  wr32(p + 4, (uint32_t)lost & 0xffffff);
  p[4] = b->fraction_lost;
  wr32(p + 8, b->highest_seq);
  wr32(p + 12, b->jitter);
  wr32(p + 16, b->lsr);
  wr32(p + 20, b->dlsr);
}

size_t rtcp_write_sr(uint8_t *out, size_t cap, uint32_t ssrc, uint32_t ntp_sec,
                     uint32_t ntp_frac, uint32_t rtp_ts, uint32_t packets,
                     uint32_t octets, const rtcp_report_block *blocks, size_t n) {
  size_t total = 4 + SR_INFO_LEN + n * BLOCK_LEN;
  if (n > RTCP_MAX_BLOCKS || cap < total)
    return 0;
  write_header(out, (uint8_t)n, PT_SR, total);
  wr32(out + 4, ssrc);
  wr32(out + 8, ntp_sec);
  wr32(out + 12, ntp_frac);
  wr32(out + 16, rtp_ts);
  wr32(out + 20, packets);
  wr32(out + 24, octets);
  for (size_t i = 0; i < n; i++)
    write_block(out + 28 + i * BLOCK_LEN, &blocks[i]);
  return total;
}

size_t rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc,
                     const rtcp_report_block *blocks, size_t n) {
  size_t total = 8 + n * BLOCK_LEN;
  if (n > RTCP_MAX_BLOCKS || cap < total)
    return 0;
  write_header(out, (uint8_t)n, PT_RR, total);
  wr32(out + 4, ssrc);
  for (size_t i = 0; i < n; i++)
    write_block(out + 8 + i * BLOCK_LEN, &blocks[i]);
  return total;
}

/* One chunk: SSRC, CNAME item (type 1), then null octets to a 32-bit boundary. */
size_t rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname) {
  size_t len = strlen(cname);
  size_t total = (8 + 2 + len + 1 + 3) & ~(size_t)3;
  if (len > 255 || cap < total)
    return 0;
  write_header(out, 1, PT_SDES, total);
  wr32(out + 4, ssrc);
  out[8] = 1;
  out[9] = (uint8_t)len;
  memcpy(out + 10, cname, len);
  memset(out + 10 + len, 0, total - 10 - len);
  return total;
}

size_t rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender, uint32_t media) {
  if (cap < 12)
    return 0;
  write_header(out, FMT_PLI, PT_PSFB, 12);
  wr32(out + 4, sender);
  wr32(out + 8, media);
  return 12;
}

/* RFC 5104 §4.3.1: the media source field is 0; the target is in the FCI. */
size_t rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender, uint32_t media,
                      uint8_t seq) {
  if (cap < 20)
    return 0;
  write_header(out, FMT_FIR, PT_PSFB, 20);
  wr32(out + 4, sender);
  wr32(out + 8, 0);
  wr32(out + 12, media);
  wr32(out + 16, 0);
  out[16] = seq;
  return 20;
}

/* A set of sequence numbers as a 65536-bit map: sorts and dedupes in one go, and
 * walking it round from any point follows wrap-around order. */
typedef struct {
  uint64_t w[1024];
} seq_set;

static bool seq_has(const seq_set *s, uint16_t v) {
  return (s->w[v >> 6] >> (v & 63)) & 1;
}

/* The first member at or after v going round; the set must not be empty. */
static uint16_t seq_next(const seq_set *s, uint16_t v) {
  size_t i = v >> 6;
  uint64_t word = s->w[i] & (~0ULL << (v & 63));
  for (size_t k = 0; k <= 1024; k++) {
    if (word)
      return (uint16_t)(i << 6 | (size_t)__builtin_ctzll(word));
    i = (i + 1) & 1023;
    word = s->w[i];
  }
  return v;
}

/* Where the list starts: the member after the widest gap, so seqs spanning the wrap
 * (65534, 65535, 0, 1) come out in that order. Sets *count to the members. */
static uint16_t seq_first(const seq_set *s, size_t *count) {
  uint16_t first = seq_next(s, 0), prev = first, start = first;
  uint32_t widest = 0;
  *count = 0;
  do {
    uint16_t cur = seq_next(s, (uint16_t)(prev + 1));
    uint32_t gap = cur == prev ? 65536 : (uint16_t)(cur - prev);
    if (gap > widest) {
      widest = gap;
      start = cur;
    }
    prev = cur;
    ++*count;
  } while (prev != first);
  return start;
}

size_t rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender, uint32_t media,
                       const uint16_t *seqs, size_t n) {
  if (n == 0 || cap < 16)
    return 0;
  seq_set set = {{0}};
  for (size_t i = 0; i < n; i++)
    set.w[seqs[i] >> 6] |= 1ULL << (seqs[i] & 63);
  size_t left, total = 12;
  uint16_t start = seq_first(&set, &left), pid = start;
  while (left > 0) {
    if (cap - total < 4 || total + 4 > 65536 * 4)
      return 0;
    uint16_t blp = 0;
    uint32_t done = (uint16_t)(pid - start); /* how far round we are */
    left--;
    for (unsigned bit = 0; bit < 16 && done + bit + 1 < 65536; bit++) {
      if (seq_has(&set, (uint16_t)(pid + bit + 1))) {
        blp |= (uint16_t)(1u << bit);
        left--;
      }
    }
    wr16(out + total, pid);
    wr16(out + total + 2, blp);
    total += 4;
    if (left > 0)
      pid = seq_next(&set, (uint16_t)(pid + 17));
  }
  write_header(out, FMT_NACK, PT_RTPFB, total);
  wr32(out + 4, sender);
  wr32(out + 8, media);
  return total;
}

size_t rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender, uint64_t bps,
                       const uint32_t *ssrcs, size_t n) {
  size_t total = 20 + 4 * n;
  if (n > 255 || cap < total)
    return 0;
  unsigned exp = 0;
  while ((bps >> exp) > 0x3ffff)
    exp++;
  uint32_t mantissa = (uint32_t)(bps >> exp); /* rounds down, never overstating */
  write_header(out, FMT_AFB, PT_PSFB, total);
  wr32(out + 4, sender);
  wr32(out + 8, 0);
  memcpy(out + 12, "REMB", 4);
  out[16] = (uint8_t)n;
  out[17] = (uint8_t)(exp << 2 | mantissa >> 16);
  wr16(out + 18, (uint16_t)mantissa);
  for (size_t i = 0; i < n; i++)
    wr32(out + 20 + 4 * i, ssrcs[i]);
  return total;
}
