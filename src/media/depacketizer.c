/* depacketizer — reorders RTP packets within a window, declares holes lost after a short
 * wait, and reassembles frames per payload format; a broken video chain waits for a key.
 */
#include "media/depacketizer.h"

#include "core/bytes.h"
#include "core/mem.h"
#include "media/video_info.h"

#include <stdlib.h>
#include <string.h>

#define VIDEO_SLOTS                                                                      \
  256 /* a 1.5 Mbit/s keyframe is ~100 packets; reordering spans few                     \
       */
#define AUDIO_SLOTS 32
#define HOLE_WAIT_MS 150 /* long enough for a retransmission to fill a hole */
#define MAX_FRAME (8u << 20)
#define MAX_PARAM_SET 256
#define MAX_VP9_LAYERS 8

typedef struct {
  bool used, marker;
  uint16_t seq;
  uint32_t ts;
  uint16_t len;
  uint8_t payload[RTP_MAX_PACKET];
} slot;

struct depacketizer {
  rtp_codec codec;
  depkt_frame_fn on_frame;
  void *ud;
  /* Reorder window: slot seq % n_slots holds packet seq; next_seq is the next to deliver.
   */
  slot *slots;
  unsigned n_slots, held;
  bool started;
  uint16_t next_seq;
  uint64_t hole_since_ms;
  /* Frame being assembled. */
  bool in_frame, broken, keyframe, lost_since_frame;
  uint32_t frame_ts;
  uint8_t *frame;
  size_t frame_len, frame_cap;
  int width, height;
  /* H.264 FU-A in progress: where its 4-byte length goes. */
  bool fu_open;
  size_t fu_len_at;
  /* VP9 spatial layers of this picture: where each layer frame starts. */
  size_t layer_start[MAX_VP9_LAYERS];
  int layers;
  bool awaiting_key, key_request;
  uint8_t sps[MAX_PARAM_SET], pps[MAX_PARAM_SET];
  size_t sps_len, pps_len;
  depkt_stats stats;
};

depacketizer *depacketizer_new(rtp_codec codec, depkt_frame_fn on_frame, void *ud) {
  depacketizer *d = xcalloc(1, sizeof *d);
  d->codec = codec;
  d->on_frame = on_frame;
  d->ud = ud;
  d->n_slots = codec == RTP_CODEC_OPUS ? AUDIO_SLOTS : VIDEO_SLOTS;
  d->slots = xcalloc(d->n_slots, sizeof *d->slots);
  d->frame_cap = codec == RTP_CODEC_OPUS ? RTP_MAX_PACKET : 256 * 1024;
  d->frame = xmalloc(d->frame_cap);
  d->awaiting_key = codec != RTP_CODEC_OPUS;
  return d;
}

void depacketizer_free(depacketizer *d) {
  if (!d)
    return;
  free(d->slots);
  free(d->frame);
  free(d);
}

/* ---- frame assembly ---- */

static bool append(depacketizer *d, const void *data, size_t n) {
  if (d->frame_len + n > d->frame_cap) {
    size_t cap = d->frame_cap * 2;
    while (cap < d->frame_len + n)
      cap *= 2;
    if (cap > MAX_FRAME)
      return false;
    d->frame = xrealloc(d->frame, cap);
    d->frame_cap = cap;
  }
  memcpy(d->frame + d->frame_len, data, n);
  d->frame_len += n;
  return true;
}

static void start_frame(depacketizer *d, uint32_t ts) {
  d->in_frame = true;
  d->frame_ts = ts;
  d->frame_len = 0;
  d->broken = d->keyframe = d->fu_open = false;
  d->width = d->height = 0;
  d->layers = 0;
}

static void break_chain(depacketizer *d) {
  if (!d->awaiting_key)
    d->key_request = true;
  d->awaiting_key = true;
}

/* VP9 spatial layers each arrive as a frame of their own; a WebM block holds one
 * superframe, so several layer frames get a superframe index (VP9 spec Annex B). */
static bool vp9_make_superframe(depacketizer *d) {
  if (d->layers <= 1)
    return true;
  uint8_t index[2 + 4 * MAX_VP9_LAYERS];
  uint8_t marker = (uint8_t)(0xc0 | (3 << 3) | (d->layers - 1)); /* 4-byte sizes */
  size_t n = 0;
  index[n++] = marker;
  for (int i = 0; i < d->layers; i++) {
    size_t end = i + 1 < d->layers ? d->layer_start[i + 1] : d->frame_len;
    uint32_t size = (uint32_t)(end - d->layer_start[i]);
    for (int b = 0; b < 4; b++)
      index[n++] = (uint8_t)(size >> (8 * b));
  }
  index[n++] = marker;
  return append(d, index, n);
}

static void keyframe_size(depacketizer *d) {
  int w = 0, h = 0;
  if (d->codec == RTP_CODEC_VP8 &&
      vp8_keyframe_size(d->frame, d->frame_len, &w, &h) == 0) {
    d->width = w, d->height = h;
  } else if (d->codec == RTP_CODEC_VP9 && d->width == 0 &&
             vp9_keyframe_size(d->frame, d->frame_len, &w, &h) == 0) {
    d->width = w, d->height = h; /* else the scalability structure gave the top layer's */
  } else if (d->codec == RTP_CODEC_H264 &&
             h264_sps_size(d->sps, d->sps_len, &w, &h) == 0) {
    d->width = w, d->height = h;
  }
}

static void finish_frame(depacketizer *d) {
  if (!d->in_frame)
    return;
  d->in_frame = false;
  if (d->fu_open || (d->codec == RTP_CODEC_VP9 && !vp9_make_superframe(d)))
    d->broken = true;
  if (d->codec == RTP_CODEC_H264 && d->keyframe && (!d->sps_len || !d->pps_len))
    d->keyframe = false; /* an IDR without parameter sets cannot start a file */
  if (d->broken || d->frame_len == 0) {
    d->stats.frames_dropped++;
    break_chain(d);
    return;
  }
  if (d->awaiting_key && !d->keyframe) {
    d->stats.frames_dropped++;
    return;
  }
  if (d->keyframe)
    keyframe_size(d);
  d->awaiting_key = false;
  d->stats.frames++;
  depkt_frame f = {d->frame, d->frame_len, d->frame_ts, d->keyframe, d->width, d->height};
  d->on_frame(d->ud, &f);
}

/* ---- payload formats ---- */

/* RFC 7741 §4.2: X R N S R PID; X adds I L T K; I a 7- or 15-bit picture id. */
static void vp8_payload(depacketizer *d, const uint8_t *p, size_t n) {
  size_t i = 1;
  if (n >= 1 && (p[0] & 0x80)) {
    uint8_t x = n >= 2 ? p[1] : 0;
    i = 2;
    if (x & 0x80)
      i += (i < n && (p[i] & 0x80)) ? 2 : 1;
    if (x & 0x40)
      i++;
    if (x & 0x30)
      i++;
  }
  if (n == 0 || i >= n) {
    d->stats.malformed++;
    d->broken = true;
    return;
  }
  bool start = (p[0] & 0x10) && (p[0] & 0x07) == 0;
  if (start !=
      (d->frame_len == 0)) { /* a start mid-frame, or a frame without its start */
    d->broken = true;
    return;
  }
  if (start)
    d->keyframe = (p[i] & 0x01) == 0;
  if (!append(d, p + i, n - i))
    d->broken = true;
}

/* RFC 9628 §4.3.4 scalability structure: returns bytes used, 0 if cut short. Records
 * the top layer's size, which is the picture's display size. */
static size_t vp9_ss(depacketizer *d, const uint8_t *p, size_t n) {
  if (n < 1)
    return 0;
  size_t i = 1, layers = (size_t)(p[0] >> 5) + 1;
  if (p[0] & 0x10) {
    if (n - i < 4 * layers)
      return 0;
    for (size_t l = 0; l < layers; l++, i += 4)
      d->width = rd16(p + i), d->height = rd16(p + i + 2);
  }
  if (p[0] & 0x08) {
    if (i >= n)
      return 0;
    size_t groups = p[i++];
    for (size_t g = 0; g < groups; g++) {
      if (i >= n)
        return 0;
      i += 1 + (size_t)((p[i] >> 2) & 0x03);
    }
    if (i > n)
      return 0;
  }
  return i;
}

/* RFC 9628 §4.2 descriptor: I P L F B E V Z, then the optional fields in that order. */
static size_t vp9_descriptor(depacketizer *d, const uint8_t *p, size_t n, int *sid) {
  size_t i = 1;
  uint8_t f = p[0];
  if (f & 0x80)
    i += (i < n && (p[i] & 0x80)) ? 2 : 1;
  if (f & 0x20) {
    if (i >= n)
      return 0;
    *sid = (p[i] >> 1) & 0x07;
    i += (f & 0x10) ? 1 : 2;
  }
  if ((f & 0x10) && (f & 0x40)) /* flexible mode references: N bit chains up to 3 */
    for (int k = 0; k < 3; k++) {
      if (i >= n)
        return 0;
      if (!(p[i++] & 0x01))
        break;
    }
  if (f & 0x02) {
    size_t ss = i < n ? vp9_ss(d, p + i, n - i) : 0;
    if (ss == 0)
      return 0;
    i += ss;
  }
  return i <= n ? i : 0;
}

static void vp9_payload(depacketizer *d, const uint8_t *p, size_t n) {
  int sid = 0;
  size_t i = n >= 1 ? vp9_descriptor(d, p, n, &sid) : 0;
  if (i == 0 || i >= n) {
    d->stats.malformed++;
    d->broken = true;
    return;
  }
  bool begin = p[0] & 0x08;
  if (begin) {
    if (d->fu_open || d->layers >= MAX_VP9_LAYERS) { /* previous layer frame lacked E */
      d->broken = true;
      return;
    }
    if (d->frame_len == 0)
      d->keyframe = !(p[0] & 0x40) && sid == 0;
    d->layer_start[d->layers++] = d->frame_len;
    d->fu_open = true;
  } else if (!d->fu_open) {
    d->broken = true;
    return;
  }
  if (p[0] & 0x04)
    d->fu_open = false;
  if (!append(d, p + i, n - i))
    d->broken = true;
}

static void h264_param_set(depacketizer *d, const uint8_t *nal, size_t n) {
  uint8_t type = nal[0] & 0x1f;
  if (type == 7 && n <= MAX_PARAM_SET) {
    memcpy(d->sps, nal, n);
    d->sps_len = n;
  } else if (type == 8 && n <= MAX_PARAM_SET) {
    memcpy(d->pps, nal, n);
    d->pps_len = n;
  } else if (type == 5) {
    d->keyframe = true;
  }
}

static void h264_nal(depacketizer *d, const uint8_t *nal, size_t n) {
  uint8_t len[4];
  wr32(len, (uint32_t)n);
  h264_param_set(d, nal, n);
  if (!append(d, len, 4) || !append(d, nal, n))
    d->broken = true;
}

static void h264_stap_a(depacketizer *d, const uint8_t *p, size_t n) {
  size_t i = 1;
  while (i < n) {
    size_t size = n - i >= 2 ? rd16(p + i) : 0;
    if (size == 0 || n - i - 2 < size) {
      d->stats.malformed++;
      d->broken = true;
      return;
    }
    h264_nal(d, p + i + 2, size);
    i += 2 + size;
  }
}

/* RFC 6184 §5.8: FU indicator, FU header S E R type, then a fragment of the NAL. */
static void h264_fu_a(depacketizer *d, const uint8_t *p, size_t n) {
  if (n < 3) {
    d->stats.malformed++;
    d->broken = true;
    return;
  }
  bool start = p[1] & 0x80, end = p[1] & 0x40;
  if (start) {
    if (d->fu_open) {
      d->broken = true;
      return;
    }
    uint8_t hdr[5] = {0, 0, 0, 0, (uint8_t)((p[0] & 0xe0) | (p[1] & 0x1f))};
    d->fu_len_at = d->frame_len;
    d->fu_open = append(d, hdr, 5);
    if ((hdr[4] & 0x1f) == 5)
      d->keyframe = true;
  } else if (!d->fu_open) {
    d->broken = true;
    return;
  }
  if (!append(d, p + 2, n - 2)) {
    d->broken = true;
    return;
  }
  if (end) {
    size_t nal = d->frame_len - d->fu_len_at - 4;
    wr32(d->frame + d->fu_len_at, (uint32_t)nal);
    h264_param_set(d, d->frame + d->fu_len_at + 4, nal);
    d->fu_open = false;
  }
}

static void h264_payload(depacketizer *d, const uint8_t *p, size_t n) {
  uint8_t type = n ? p[0] & 0x1f : 0;
  if (type >= 1 && type <= 23)
    h264_nal(d, p, n);
  else if (type == 24)
    h264_stap_a(d, p, n);
  else if (type == 28)
    h264_fu_a(d, p, n);
  else { /* STAP-B, MTAP, FU-B are not in packetization-mode 1 */
    d->stats.malformed++;
    d->broken = true;
  }
}

static void opus_payload(depacketizer *d, const slot *s) {
  d->stats.frames++;
  depkt_frame f = {s->payload, s->len, s->ts, true, 0, 0};
  d->on_frame(d->ud, &f);
}

/* One packet in sequence order. A new timestamp ends the frame before it. */
static void deliver(depacketizer *d, const slot *s) {
  if (s->len == 0)
    return; /* padding-only (bandwidth probes) */
  if (d->codec == RTP_CODEC_OPUS) {
    opus_payload(d, s);
    return;
  }
  if (d->in_frame && s->ts != d->frame_ts)
    finish_frame(d);
  if (!d->in_frame) {
    start_frame(d, s->ts);
    d->broken = d->lost_since_frame;
    d->lost_since_frame = false;
  }
  if (!d->broken) {
    if (d->codec == RTP_CODEC_VP8)
      vp8_payload(d, s->payload, s->len);
    else if (d->codec == RTP_CODEC_VP9)
      vp9_payload(d, s->payload, s->len);
    else
      h264_payload(d, s->payload, s->len);
  }
  if (s->marker)
    finish_frame(d);
}

/* A sequence number that never came. Audio just skips it; video loses the frame it was
 * part of (or, between frames, possibly a whole frame) and needs a keyframe. */
static void deliver_hole(depacketizer *d) {
  d->stats.lost++;
  if (d->codec == RTP_CODEC_OPUS)
    return;
  if (d->in_frame)
    d->broken = true;
  else
    d->lost_since_frame = true;
  break_chain(d);
}

/* ---- reorder window ---- */

static slot *slot_of(depacketizer *d, uint16_t seq) {
  return &d->slots[seq % d->n_slots];
}

/* Delivers next_seq (or declares it lost) and moves on. */
static void release_one(depacketizer *d) {
  slot *s = slot_of(d, d->next_seq);
  if (s->used && s->seq == d->next_seq) {
    s->used = false;
    d->held--;
    deliver(d, s);
  } else {
    deliver_hole(d);
  }
  d->next_seq++;
}

static void release_ready(depacketizer *d) {
  for (slot *s = slot_of(d, d->next_seq); s->used && s->seq == d->next_seq;
       s = slot_of(d, d->next_seq))
    release_one(d);
}

static void skip_to_held(depacketizer *d) {
  while (d->held > 0) {
    slot *s = slot_of(d, d->next_seq);
    if (s->used && s->seq == d->next_seq)
      break;
    release_one(d);
  }
}

void depacketizer_push(depacketizer *d, const uint8_t *pkt, size_t len, uint64_t now_ms) {
  rtp_header h;
  d->stats.packets++;
  if (rtp_parse(pkt, len, &h) != 0 || h.payload_len > RTP_MAX_PACKET) {
    d->stats.malformed++;
    return;
  }
  if (!d->started) {
    d->started = true;
    d->next_seq = h.seq;
  }
  int diff = (int16_t)(uint16_t)(h.seq - d->next_seq);
  if (diff < 0) {
    d->stats.late++;
    return;
  }
  if ((unsigned)diff >= 2 * d->n_slots) { /* a jump (sender restart): start over there */
    depacketizer_flush(d);
    d->next_seq = h.seq;
    deliver_hole(d);
  }
  while ((uint16_t)(h.seq - d->next_seq) >= d->n_slots)
    release_one(d);
  slot *s = slot_of(d, h.seq);
  if (s->used) {
    d->stats.late++; /* the same sequence number again */
    return;
  }
  *s = (slot){.used = true,
              .marker = h.marker,
              .seq = h.seq,
              .ts = h.timestamp,
              .len = (uint16_t)h.payload_len};
  memcpy(s->payload, pkt + h.payload_offset, h.payload_len);
  if (d->held++ == 0)
    d->hole_since_ms = now_ms;
  release_ready(d);
  if (d->held > 0 && now_ms - d->hole_since_ms >= HOLE_WAIT_MS) {
    skip_to_held(d);
    release_ready(d);
    d->hole_since_ms = now_ms;
  }
}

void depacketizer_flush(depacketizer *d) {
  while (d->held > 0) {
    skip_to_held(d);
    release_ready(d);
  }
  if (d->in_frame && d->codec != RTP_CODEC_OPUS)
    finish_frame(d); /* a last frame whose marker never came is still whole if unbroken */
}

bool depacketizer_awaiting_keyframe(const depacketizer *d) { return d->awaiting_key; }

bool depacketizer_take_keyframe_request(depacketizer *d) {
  bool r = d->key_request;
  d->key_request = false;
  return r;
}

const uint8_t *depacketizer_h264_sps(const depacketizer *d, size_t *len) {
  *len = d->sps_len;
  return d->sps;
}

const uint8_t *depacketizer_h264_pps(const depacketizer *d, size_t *len) {
  *len = d->pps_len;
  return d->pps;
}

depkt_stats depacketizer_stats(const depacketizer *d) { return d->stats; }
