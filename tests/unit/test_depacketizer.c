/* test_depacketizer — RTP to frames for Opus, VP8, VP9 and H.264: reordering, duplicates,
 * loss (and the keyframe wait it causes), sequence wrap, and the sizes read from
 * keyframes. */
#include "check.h"
#include "media/depacketizer.h"
#include "media/video_info.h"
#include "media_packets.h"

#include <stdlib.h>

#define MAX_FRAMES 64

typedef struct {
  int n;
  uint8_t *data[MAX_FRAMES];
  size_t len[MAX_FRAMES];
  uint32_t ts[MAX_FRAMES];
  bool key[MAX_FRAMES];
  int w[MAX_FRAMES], h[MAX_FRAMES];
} sink;

static void on_frame(void *ud, const depkt_frame *f) {
  sink *s = ud;
  if (s->n == MAX_FRAMES)
    return;
  s->data[s->n] = malloc(f->len);
  memcpy(s->data[s->n], f->data, f->len);
  s->len[s->n] = f->len;
  s->ts[s->n] = f->rtp_ts;
  s->key[s->n] = f->keyframe;
  s->w[s->n] = f->width;
  s->h[s->n] = f->height;
  s->n++;
}

static void sink_free(sink *s) {
  for (int i = 0; i < s->n; i++)
    free(s->data[i]);
  memset(s, 0, sizeof *s);
}

static void push(depacketizer *d, const mp_packet *p, uint64_t now) {
  depacketizer_push(d, p->data, p->len, now);
}

static void test_opus_reorder_dup_loss_wrap(void) {
  sink s = {0};
  depacketizer *d = depacketizer_new(RTP_CODEC_OPUS, on_frame, &s);
  mp_packet p[6];
  for (int i = 0; i < 6; i++) /* sequence numbers 65533 .. 2: across the wrap */
    mp_opus(&p[i], (uint16_t)(65533 + i), 960u * (uint32_t)i, 40, (uint32_t)i);
  push(d, &p[0], 0);
  push(d, &p[2], 1); /* 1 is late */
  push(d, &p[1], 2);
  push(d, &p[1], 3); /* a duplicate */
  push(d, &p[4], 4); /* 3 is lost: held until the hole is given up */
  CHECK(s.n == 3);
  push(d, &p[5], 200);
  CHECK(s.n == 5);
  CHECK(s.ts[0] == 0 && s.ts[1] == 960 && s.ts[2] == 1920 && s.ts[3] == 3840);
  CHECK(s.len[0] == 40 && memcmp(s.data[0], p[0].data + 12, 40) == 0);
  depkt_stats st = depacketizer_stats(d);
  CHECK(st.lost == 1 && st.late == 1 && st.frames == 5);
  CHECK(!depacketizer_awaiting_keyframe(d)); /* audio never waits */
  depacketizer_free(d);
  sink_free(&s);
}

static size_t vp8_picture(mp_packet *p, uint16_t seq, uint32_t ts, uint16_t pid, bool key,
                          size_t n, uint8_t *frame) {
  mp_vp8_frame(frame, n, key, 1280, 720, seq);
  return mp_vp8_packets(p, 16, seq, ts, pid, frame, n);
}

static void test_vp8_frames_and_loss(void) {
  sink s = {0};
  depacketizer *d = depacketizer_new(RTP_CODEC_VP8, on_frame, &s);
  uint8_t key[3000], inter[500];
  mp_packet kp[16], ip[16];
  CHECK(depacketizer_awaiting_keyframe(d));
  /* An inter frame before any keyframe is dropped. */
  size_t n = vp8_picture(ip, 10, 0, 1, false, sizeof inter, inter);
  for (size_t i = 0; i < n; i++)
    push(d, &ip[i], 0);
  CHECK(s.n == 0);
  /* A keyframe in three packets, out of order. */
  n = vp8_picture(kp, 11, 3000, 2, true, sizeof key, key);
  CHECK(n == 3);
  push(d, &kp[2], 1);
  push(d, &kp[0], 1);
  push(d, &kp[1], 2);
  CHECK(s.n == 1 && s.key[0] && s.len[0] == sizeof key &&
        memcmp(s.data[0], key, sizeof key) == 0);
  CHECK(s.w[0] == 1280 && s.h[0] == 720 && s.ts[0] == 3000);
  CHECK(!depacketizer_awaiting_keyframe(d));
  /* An inter frame whose middle packet is lost: dropped, a keyframe is asked for, and
   * the next (whole) inter frame is dropped too. */
  uint8_t big[2500];
  n = vp8_picture(ip, 14, 6000, 3, false, sizeof big, big);
  CHECK(n == 3);
  push(d, &ip[0], 10);
  push(d, &ip[2], 11);
  n = vp8_picture(ip, 17, 9000, 4, false, sizeof inter, inter);
  push(d, &ip[0], 300); /* the hole waited long enough */
  CHECK(s.n == 1);
  CHECK(depacketizer_take_keyframe_request(d));
  CHECK(!depacketizer_take_keyframe_request(d)); /* once per break */
  CHECK(depacketizer_awaiting_keyframe(d));
  n = vp8_picture(kp, 18, 12000, 5, true, sizeof key, key);
  for (size_t i = 0; i < n; i++)
    push(d, &kp[i], 301);
  CHECK(s.n == 2 && s.key[1] && s.ts[1] == 12000);
  depkt_stats st = depacketizer_stats(d);
  CHECK(st.lost == 1 && st.frames == 2);
  depacketizer_free(d);
  sink_free(&s);
}

static void test_vp8_malformed(void) {
  sink s = {0};
  depacketizer *d = depacketizer_new(RTP_CODEC_VP8, on_frame, &s);
  mp_packet p;
  size_t h = mp_header(&p, 96, true, 1, 0, 1);
  p.data[h] = 0x90; /* X and S, then the extension byte is missing */
  p.len = h + 1;
  push(d, &p, 0);
  p.len = 5; /* not even an RTP header */
  push(d, &p, 0);
  CHECK(s.n == 0 && depacketizer_stats(d).malformed == 2);
  depacketizer_free(d);
}

static void test_vp9_flexible_and_spatial_layers(void) {
  sink s = {0};
  depacketizer *d = depacketizer_new(RTP_CODEC_VP9, on_frame, &s);
  uint8_t base[1500], top[2600];
  mp_vp9_frame(base, sizeof base, true, 640, 360, 1);
  mp_vp9_frame(top, sizeof top, false, 0, 0, 2);
  mp_packet p[8];
  /* A keyframe picture of two spatial layers: one superframe with an index. */
  size_t n =
      mp_vp9_packets(p, 8, 100, 9000, 7, 0, true, false, 2, 1280, 720, base, sizeof base);
  n += mp_vp9_packets(p + n, 8 - n, (uint16_t)(100 + n), 9000, 7, 1, true, true, 2, 0, 0,
                      top, sizeof top);
  CHECK(n == 5);
  push(d, &p[0], 0); /* the first packet seen starts the sequence; the rest reversed */
  for (size_t i = n; i-- > 1;)
    push(d, &p[i], 0);
  CHECK(s.n == 1 && s.key[0]);
  CHECK(s.w[0] == 1280 && s.h[0] == 720); /* the top layer's size, from the SS */
  size_t total = sizeof base + sizeof top;
  CHECK(s.len[0] == total + 10);
  if (s.n == 1 && s.len[0] == total + 10) {
    const uint8_t *idx = s.data[0] + total;
    CHECK(idx[0] == 0xd9 && idx[9] == 0xd9); /* 2 frames, 4-byte sizes */
    CHECK(idx[1] == (sizeof base & 0xff) && idx[2] == (sizeof base >> 8));
    CHECK(memcmp(s.data[0], base, sizeof base) == 0);
    CHECK(memcmp(s.data[0] + sizeof base, top, sizeof top) == 0);
  }
  /* A single-layer keyframe without SS: the size comes from the uncompressed header. */
  n = mp_vp9_packets(p, 8, (uint16_t)(100 + n), 18000, 8, 0, true, true, 1, 0, 0, base,
                     sizeof base);
  for (size_t i = 0; i < n; i++)
    push(d, &p[i], 1);
  CHECK(s.n == 2 && s.key[1] && s.len[1] == sizeof base && s.w[1] == 640 &&
        s.h[1] == 360);
  depacketizer_free(d);
  sink_free(&s);
}

static void test_vp9_header_sizes(void) {
  uint8_t f[64];
  int w = 0, h = 0;
  mp_vp9_frame(f, sizeof f, true, 1920, 1080, 3);
  CHECK(vp9_keyframe_size(f, sizeof f, &w, &h) == 0 && w == 1920 && h == 1080);
  mp_vp9_frame(f, sizeof f, false, 0, 0, 3);
  CHECK(vp9_keyframe_size(f, sizeof f, &w, &h) == -1);
  CHECK(vp9_keyframe_size(f, 3, &w, &h) == -1);
}

static void test_h264_sps_sizes(void) {
  uint8_t sps[64];
  int w = 0, h = 0;
  size_t n = mp_h264_sps(sps, 640, 480, 66);
  CHECK(h264_sps_size(sps, n, &w, &h) == 0 && w == 640 && h == 480);
  n = mp_h264_sps(sps, 1920, 1080, 100); /* 1088 coded, 8 rows cropped */
  CHECK(h264_sps_size(sps, n, &w, &h) == 0 && w == 1920 && h == 1080);
  n = mp_h264_sps(sps, 1280, 720, 100);
  CHECK(h264_sps_size(sps, n, &w, &h) == 0 && w == 1280 && h == 720);
  CHECK(h264_sps_size(sps, 4, &w, &h) == -1); /* cut short */
  sps[0] = 0x68;                              /* a PPS, not an SPS */
  CHECK(h264_sps_size(sps, n, &w, &h) == -1);
}

static void test_h264_stap_a_fu_a(void) {
  sink s = {0};
  depacketizer *d = depacketizer_new(RTP_CODEC_H264, on_frame, &s);
  uint8_t sps[64], pps[4] = {0x68, 0xce, 0x3c, 0x80}, idr[3000], slice[300];
  size_t sps_len = mp_h264_sps(sps, 1280, 720, 100);
  mp_fill(idr, sizeof idr, 9);
  idr[0] = 0x65;
  mp_fill(slice, sizeof slice, 10);
  slice[0] = 0x41;
  const uint8_t *nals[3] = {sps, pps, idr};
  size_t lens[3] = {sps_len, sizeof pps, sizeof idr};
  mp_packet p[8];
  /* An IDR alone (no parameter sets yet) cannot start: dropped. */
  size_t n = mp_h264_packets(p, 8, 500, 0, nals + 2, lens + 2, 1, false);
  for (size_t i = 0; i < n; i++)
    push(d, &p[i], 0);
  CHECK(s.n == 0);
  n = mp_h264_packets(p, 8, (uint16_t)(500 + n), 3000, nals, lens, 3, true);
  CHECK(n == 4); /* STAP-A, then the IDR in three FU-As */
  push(d, &p[0], 1);
  push(d, &p[2], 1);
  push(d, &p[1], 1);
  push(d, &p[3], 1);
  CHECK(s.n == 1 && s.key[0] && s.w[0] == 1280 && s.h[0] == 720);
  size_t want = 4 + sps_len + 4 + sizeof pps + 4 + sizeof idr;
  CHECK(s.len[0] == want);
  if (s.n == 1 && s.len[0] == want) {
    const uint8_t *f = s.data[0];
    CHECK(f[3] == sps_len && memcmp(f + 4, sps, sps_len) == 0);
    f += 4 + sps_len;
    CHECK(f[3] == sizeof pps && memcmp(f + 4, pps, sizeof pps) == 0);
    f += 4 + sizeof pps;
    CHECK(f[1] == 0 && f[2] == (sizeof idr >> 8) && f[3] == (sizeof idr & 0xff));
    CHECK(memcmp(f + 4, idr, sizeof idr) == 0);
  }
  size_t len;
  CHECK(depacketizer_h264_sps(d, &len) && len == sps_len);
  CHECK(depacketizer_h264_pps(d, &len) && len == sizeof pps);
  /* A non-IDR slice as one single-NAL packet. */
  uint16_t seq = (uint16_t)(500 + 3 + n);
  n = mp_h264_packets(p, 8, seq, 6000, (const uint8_t *const[]){slice},
                      (size_t[]){sizeof slice}, 1, false);
  push(d, &p[0], 2);
  CHECK(s.n == 2 && !s.key[1] && s.len[1] == 4 + sizeof slice);
  /* An FU-A whose start is lost: the frame goes, and video waits for a keyframe. */
  seq = (uint16_t)(seq + 1);
  n = mp_h264_packets(p, 8, seq, 9000, nals + 2, lens + 2, 1, false);
  push(d, &p[1], 3);
  push(d, &p[2], 300);
  CHECK(s.n == 2 && depacketizer_awaiting_keyframe(d));
  /* A STAP-A whose unit size runs past the packet is malformed. */
  mp_packet bad;
  size_t h = mp_header(&bad, 102, true, (uint16_t)(seq + 3), 12000, 1);
  uint8_t body[] = {24, 0, 50, 0x67, 1, 2};
  memcpy(bad.data + h, body, sizeof body);
  bad.len = h + sizeof body;
  push(d, &bad, 301);
  CHECK(depacketizer_stats(d).malformed == 1);
  depacketizer_free(d);
  sink_free(&s);
}

static void test_flush_releases_held(void) {
  sink s = {0};
  depacketizer *d = depacketizer_new(RTP_CODEC_OPUS, on_frame, &s);
  mp_packet p[3];
  for (int i = 0; i < 3; i++)
    mp_opus(&p[i], (uint16_t)i, 960u * (uint32_t)i, 20, 1);
  push(d, &p[0], 0);
  push(d, &p[2], 1); /* waits for 1 */
  CHECK(s.n == 1);
  depacketizer_flush(d);
  CHECK(s.n == 2 && s.ts[1] == 1920);
  depacketizer_free(d);
  sink_free(&s);
}

int main(void) {
  test_opus_reorder_dup_loss_wrap();
  test_vp8_frames_and_loss();
  test_vp8_malformed();
  test_vp9_flexible_and_spatial_layers();
  test_vp9_header_sizes();
  test_h264_sps_sizes();
  test_h264_stap_a_fu_a();
  test_flush_releases_held();
  CHECK_DONE();
}
