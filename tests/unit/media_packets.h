/* media_packets — test media for the recorder's tests: synthetic VP8/VP9 keyframes and
 * H.264 parameter sets with real headers, and RTP packetisers for Opus, VP8, VP9, H.264.
 */
#ifndef PARLEY_TEST_MEDIA_PACKETS_H
#define PARLEY_TEST_MEDIA_PACKETS_H

#include "rtc/rtp.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define MP_MTU 1200

typedef struct {
  uint8_t data[MP_MTU + 64];
  size_t len;
} mp_packet;

typedef struct {
  uint8_t *p;
  size_t cap, bit;
} mp_bits;

static inline void mp_put(mp_bits *b, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; i--, b->bit++) {
    if ((v >> i) & 1)
      b->p[b->bit >> 3] |= (uint8_t)(0x80 >> (b->bit & 7));
  }
}

static inline void mp_put_ue(mp_bits *b, uint32_t v) {
  uint32_t x = v + 1;
  int n = 0;
  while ((x >> n) > 1)
    n++;
  mp_put(b, 0, n);
  mp_put(b, x, n + 1);
}

/* Filler that changes with seed, never making start codes. */
static inline void mp_fill(uint8_t *p, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)((seed >> 16) | 0x01);
  }
}

/* A VP8 frame of n >= 10 bytes: keyframes carry the start code and the size. */
static inline size_t mp_vp8_frame(uint8_t *out, size_t n, bool key, int w, int h,
                                  uint32_t seed) {
  mp_fill(out, n, seed);
  out[0] = key ? 0x10 : 0x11; /* bit 0: 0 key, 1 inter; show_frame set */
  if (key) {
    out[3] = 0x9d, out[4] = 0x01, out[5] = 0x2a;
    out[6] = (uint8_t)w, out[7] = (uint8_t)(w >> 8);
    out[8] = (uint8_t)h, out[9] = (uint8_t)(h >> 8);
  }
  return n;
}

/* A VP9 profile-0 frame: keyframes have a real uncompressed header with the size. */
static inline size_t mp_vp9_frame(uint8_t *out, size_t n, bool key, int w, int h,
                                  uint32_t seed) {
  mp_fill(out, n, seed);
  memset(out, 0, 10);
  mp_bits b = {out, n, 0};
  mp_put(&b, 2, 2); /* frame_marker */
  mp_put(&b, 0, 2); /* profile 0 */
  mp_put(&b, 0, 1); /* show_existing_frame */
  mp_put(&b, key ? 0 : 1, 1);
  mp_put(&b, 1, 1); /* show_frame */
  mp_put(&b, 0, 1); /* error_resilient_mode */
  if (key) {
    mp_put(&b, 0x498342, 24);
    mp_put(&b, 1, 3); /* color_space BT.601 */
    mp_put(&b, 0, 1); /* color_range */
    mp_put(&b, (uint32_t)w - 1, 16);
    mp_put(&b, (uint32_t)h - 1, 16);
  }
  return n;
}

/* An H.264 SPS NAL (header included) for a w x h picture, cropping what exceeds the
 * 16-pixel macroblock grid (4:2:0, frame coding), profile 66 or 100. */
static inline size_t mp_h264_sps(uint8_t *out, int w, int h, int profile) {
  memset(out, 0, 64);
  out[0] = 0x67;
  mp_bits b = {out + 1, 63, 0};
  mp_put(&b, (uint32_t)profile, 8);
  mp_put(&b, 0xc0, 8); /* constraint flags */
  mp_put(&b, 31, 8);   /* level 3.1 */
  mp_put_ue(&b, 0);    /* sps id */
  if (profile == 100) {
    mp_put_ue(&b, 1); /* chroma 4:2:0 */
    mp_put_ue(&b, 0);
    mp_put_ue(&b, 0);
    mp_put(&b, 0, 1);
    mp_put(&b, 0, 1); /* no scaling matrix */
  }
  mp_put_ue(&b, 0); /* log2_max_frame_num_minus4 */
  mp_put_ue(&b, 2); /* pic_order_cnt_type */
  mp_put_ue(&b, 1); /* max_num_ref_frames */
  mp_put(&b, 0, 1);
  int mbw = (w + 15) / 16, mbh = (h + 15) / 16;
  mp_put_ue(&b, (uint32_t)mbw - 1);
  mp_put_ue(&b, (uint32_t)mbh - 1);
  mp_put(&b, 1, 1); /* frame_mbs_only */
  mp_put(&b, 1, 1); /* direct_8x8_inference */
  bool crop = mbw * 16 != w || mbh * 16 != h;
  mp_put(&b, crop, 1);
  if (crop) {
    mp_put_ue(&b, 0);
    mp_put_ue(&b, (uint32_t)(mbw * 16 - w) / 2);
    mp_put_ue(&b, 0);
    mp_put_ue(&b, (uint32_t)(mbh * 16 - h) / 2);
  }
  mp_put(&b, 0, 1); /* vui */
  mp_put(&b, 1, 1); /* rbsp stop bit */
  return 1 + (b.bit + 7) / 8;
}

static inline size_t mp_header(mp_packet *p, uint8_t pt, bool marker, uint16_t seq,
                               uint32_t ts, uint32_t ssrc) {
  return rtp_write_header(p->data, pt, marker, seq, ts, ssrc);
}

static inline size_t mp_opus(mp_packet *out, uint16_t seq, uint32_t ts, size_t n,
                             uint32_t seed) {
  size_t h = mp_header(out, 111, false, seq, ts, 0xa0d10);
  mp_fill(out->data + h, n, seed);
  out->len = h + n;
  return 1;
}

/* VP8 (RFC 7741) with a 15-bit picture id; returns the number of packets. */
static inline size_t mp_vp8_packets(mp_packet *out, size_t max, uint16_t seq, uint32_t ts,
                                    uint16_t picture_id, const uint8_t *f, size_t n) {
  size_t k = 0, off = 0;
  while (off < n && k < max) {
    size_t chunk = n - off < MP_MTU ? n - off : MP_MTU;
    mp_packet *p = &out[k];
    size_t h = mp_header(p, 96, off + chunk == n, (uint16_t)(seq + k), ts, 0x71de0);
    uint8_t desc[4] = {(uint8_t)(0x80 | (off == 0 ? 0x10 : 0)), 0x80,
                       (uint8_t)(0x80 | (picture_id >> 8)), (uint8_t)picture_id};
    memcpy(p->data + h, desc, 4);
    memcpy(p->data + h + 4, f + off, chunk);
    p->len = h + 4 + chunk;
    off += chunk;
    k++;
  }
  return k;
}

/* VP9 (RFC 9628) flexible mode, picture id, layer indices (spatial layer sid), a P_DIFF
 * on inter frames and, on keyframes, a scalability structure of `layers` spatial layers
 * whose top one is ss_w x ss_h (each lower one half as large). */
static inline size_t mp_vp9_packets(mp_packet *out, size_t max, uint16_t seq, uint32_t ts,
                                    uint16_t picture_id, int sid, bool key,
                                    bool end_of_picture, int layers, int ss_w, int ss_h,
                                    const uint8_t *f, size_t n) {
  size_t k = 0, off = 0;
  while (off < n && k < max) {
    size_t chunk = n - off < MP_MTU ? n - off : MP_MTU;
    mp_packet *p = &out[k];
    bool first = off == 0, last = off + chunk == n;
    size_t h = mp_header(p, 98, last && end_of_picture, (uint16_t)(seq + k), ts, 0x71de9);
    uint8_t *d = p->data + h;
    size_t i = 0;
    bool inter = !key || sid > 0;
    bool ss = key && first && sid == 0 && ss_w > 0;
    d[i++] = (uint8_t)(0x80 | (inter ? 0x40 : 0) | 0x20 | 0x10 | (first ? 0x08 : 0) |
                       (last ? 0x04 : 0) | (ss ? 0x02 : 0));
    d[i++] = (uint8_t)(0x80 | (picture_id >> 8));
    d[i++] = (uint8_t)picture_id;
    d[i++] = (uint8_t)(sid << 1); /* TID 0, U 0, SID, D 0 */
    if (inter)
      d[i++] = 0x02; /* P_DIFF 1, no more */
    if (ss) {
      d[i++] = (uint8_t)(0x10 | ((layers - 1) << 5)); /* N_S, Y: sizes follow */
      for (int l = 0; l < layers; l++) {
        int lw = ss_w >> (layers - 1 - l), lh = ss_h >> (layers - 1 - l);
        d[i++] = (uint8_t)(lw >> 8), d[i++] = (uint8_t)lw;
        d[i++] = (uint8_t)(lh >> 8), d[i++] = (uint8_t)lh;
      }
    }
    memcpy(d + i, f + off, chunk);
    p->len = h + i + chunk;
    off += chunk;
    k++;
  }
  return k;
}

/* H.264 (RFC 6184) packetization-mode 1: NAL units that fit go as single NAL packets
 * (or, with stap, together in one STAP-A), larger ones as FU-A. nals[i] includes the
 * NAL header byte. */
static inline size_t mp_h264_packets(mp_packet *out, size_t max, uint16_t seq,
                                     uint32_t ts, const uint8_t *const *nals,
                                     const size_t *lens, size_t count, bool stap) {
  size_t k = 0;
  size_t i = 0;
  if (stap && count >= 2) { /* the first two (SPS, PPS) in one STAP-A */
    mp_packet *p = &out[k];
    size_t h = mp_header(p, 102, count == 2, (uint16_t)(seq + k), ts, 0x4264);
    uint8_t *d = p->data + h;
    size_t o = 0;
    d[o++] = 24;
    for (; i < 2; i++) {
      d[o++] = (uint8_t)(lens[i] >> 8), d[o++] = (uint8_t)lens[i];
      memcpy(d + o, nals[i], lens[i]);
      o += lens[i];
    }
    p->len = h + o;
    k++;
  }
  for (; i < count && k < max; i++) {
    const uint8_t *nal = nals[i];
    size_t n = lens[i];
    bool last_nal = i + 1 == count;
    if (n <= MP_MTU) {
      mp_packet *p = &out[k];
      size_t h = mp_header(p, 102, last_nal, (uint16_t)(seq + k), ts, 0x4264);
      memcpy(p->data + h, nal, n);
      p->len = h + n;
      k++;
      continue;
    }
    size_t off = 1;
    while (off < n && k < max) {
      size_t chunk = n - off < MP_MTU ? n - off : MP_MTU;
      bool end = off + chunk == n;
      mp_packet *p = &out[k];
      size_t h = mp_header(p, 102, end && last_nal, (uint16_t)(seq + k), ts, 0x4264);
      p->data[h] = (uint8_t)((nal[0] & 0xe0) | 28);
      p->data[h + 1] =
          (uint8_t)((off == 1 ? 0x80 : 0) | (end ? 0x40 : 0) | (nal[0] & 0x1f));
      memcpy(p->data + h + 2, nal + off, chunk);
      p->len = h + 2 + chunk;
      off += chunk;
      k++;
    }
  }
  return k;
}

#endif
