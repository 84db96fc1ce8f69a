/* test_rtp_renumber — a forwarded stream's numbers across switches of source: VP8 and
 * VP9 picture ids and TL0PICIDX read and shifted in place (widths and wraps kept), and
 * sequence numbers, timestamps and ids that run on by one packet, one picture and the
 * wall time at a switch, whatever the new source's own numbers. */
#include "check.h"
#include "rtc/rtp_renumber.h"

/* A VP8 descriptor: X, then I L T, a 15-bit picture id, TL0PICIDX, TID. */
static size_t vp8_payload(uint8_t *p, uint16_t pic, uint8_t tl0) {
  p[0] = 0x90; /* X, S */
  p[1] = 0xe0; /* I L T */
  p[2] = (uint8_t)(0x80 | pic >> 8);
  p[3] = (uint8_t)pic;
  p[4] = tl0;
  p[5] = 0x40; /* TID 1 */
  p[6] = 0x9d; /* frame data */
  return 7;
}

static void test_read_vp8(void) {
  uint8_t p[16];
  rtp_vpx_ids ids;
  size_t n = vp8_payload(p, 18145, 142);
  CHECK(rtp_vpx_ids_read(p, n, RTP_CODEC_VP8, &ids) == 0);
  CHECK(ids.has_pic && ids.pic_15bit && ids.pic == 18145 && ids.pic_at == 2);
  CHECK(ids.has_tl0 && ids.tl0 == 142 && ids.tl0_at == 4);
  /* A 7-bit picture id, no TL0PICIDX. */
  const uint8_t short_id[] = {0x80, 0x80, 0x55, 0x9d};
  CHECK(rtp_vpx_ids_read(short_id, sizeof short_id, RTP_CODEC_VP8, &ids) == 0);
  CHECK(ids.has_pic && !ids.pic_15bit && ids.pic == 0x55 && !ids.has_tl0);
  /* No X: nothing to carry. */
  const uint8_t plain[] = {0x10, 0x9d};
  CHECK(rtp_vpx_ids_read(plain, sizeof plain, RTP_CODEC_VP8, &ids) == 0);
  CHECK(!ids.has_pic && !ids.has_tl0);
  /* Ends inside the descriptor: an error, and no ids to write through. */
  CHECK(rtp_vpx_ids_read(p, 3, RTP_CODEC_VP8, &ids) == -1);
  CHECK(!ids.has_pic && !ids.has_tl0);
  CHECK(rtp_vpx_ids_read(p, 4, RTP_CODEC_VP8, &ids) == -1);
  CHECK(rtp_vpx_ids_read(p, 0, RTP_CODEC_VP8, &ids) == -1);
  /* Other codecs have none. */
  CHECK(rtp_vpx_ids_read(p, n, RTP_CODEC_H264, &ids) == 0 && !ids.has_pic);
}

static void test_read_vp9(void) {
  rtp_vpx_ids ids;
  /* I L (non-flexible): picture id, layer byte, TL0PICIDX. */
  const uint8_t nonflex[] = {0xa8, 0x81, 0x02, 0x20, 0x07, 0x00};
  CHECK(rtp_vpx_ids_read(nonflex, sizeof nonflex, RTP_CODEC_VP9, &ids) == 0);
  CHECK(ids.has_pic && ids.pic_15bit && ids.pic == 0x102 && ids.pic_at == 1);
  CHECK(ids.has_tl0 && ids.tl0 == 7 && ids.tl0_at == 4);
  /* Flexible mode (F): the layer byte has no TL0PICIDX after it. */
  const uint8_t flex[] = {0xb8, 0x05, 0x20, 0x00};
  CHECK(rtp_vpx_ids_read(flex, sizeof flex, RTP_CODEC_VP9, &ids) == 0);
  CHECK(ids.has_pic && !ids.pic_15bit && ids.pic == 5 && !ids.has_tl0);
  CHECK(rtp_vpx_ids_read(nonflex, 4, RTP_CODEC_VP9, &ids) == -1);
}

static void test_shift(void) {
  uint8_t p[16];
  rtp_vpx_ids ids;
  size_t n = vp8_payload(p, 0x7ffe, 0xff);
  rtp_vpx_ids_read(p, n, RTP_CODEC_VP8, &ids);
  rtp_vpx_ids_shift(p, &ids, 3, 2); /* both wrap */
  rtp_vpx_ids out;
  CHECK(rtp_vpx_ids_read(p, n, RTP_CODEC_VP8, &out) == 0);
  CHECK(out.pic_15bit && out.pic == 1 && out.tl0 == 1);
  CHECK(p[0] == 0x90 && p[1] == 0xe0 && p[5] == 0x40 && p[6] == 0x9d);
  uint8_t short_id[] = {0x80, 0x80, 0x7f, 0x9d};
  rtp_vpx_ids_read(short_id, sizeof short_id, RTP_CODEC_VP8, &ids);
  rtp_vpx_ids_shift(short_id, &ids, 0x1234, 9);
  CHECK(short_id[2] == ((0x7f + 0x1234) & 0x7f) && short_id[3] == 0x9d);
}

static rtp_header header(uint16_t seq, uint32_t ts) {
  return (rtp_header){.seq = seq, .timestamp = ts};
}

/* Layer A sends, then a switch to layer B, whose numbers are thousands away: the
 * receiver sees one stream. */
static void test_switch(void) {
  rtp_renumber r;
  rtp_renumber_init(&r);
  CHECK(!r.started);
  rtp_vpx_ids a = {
      .has_pic = true, .pic_15bit = true, .pic = 18145, .has_tl0 = true, .tl0 = 142};
  rtp_header h = header(1000, 500000);
  rtp_renumbered first = rtp_renumber_next(&r, &h, &a, 90000, 10000);
  h = header(1001, 500000);
  rtp_renumbered second = rtp_renumber_next(&r, &h, &a, 90000, 10005);
  CHECK(second.seq == (uint16_t)(first.seq + 1) && second.ts == first.ts);
  a.pic = 18146;
  a.tl0 = 143;
  h = header(1002, 503000);
  rtp_renumbered third = rtp_renumber_next(&r, &h, &a, 90000, 10033);
  CHECK(third.ts == first.ts + 3000);
  uint16_t pic_a = (uint16_t)((18146 + third.pic_delta) & 0x7fff);
  uint8_t tl0_a = (uint8_t)(143 + third.tl0_delta);
  /* The switch, 250 ms later (a keyframe was waited for). */
  r.started = false;
  rtp_vpx_ids b = {
      .has_pic = true, .pic_15bit = true, .pic = 24498, .has_tl0 = true, .tl0 = 112};
  h = header(52000, 7000000);
  rtp_renumbered sw = rtp_renumber_next(&r, &h, &b, 90000, 10283);
  CHECK(sw.seq == (uint16_t)(third.seq + 1));
  CHECK(sw.ts == third.ts + 250 * 90);
  CHECK(((24498 + sw.pic_delta) & 0x7fff) == ((pic_a + 1) & 0x7fff));
  CHECK((uint8_t)(112 + sw.tl0_delta) == (uint8_t)(tl0_a + 1));
  h = header(52001, 7003000);
  b.pic = 24499;
  rtp_renumbered next = rtp_renumber_next(&r, &h, &b, 90000, 10316);
  CHECK(next.seq == (uint16_t)(sw.seq + 1) && next.ts == sw.ts + 3000);
  CHECK(next.pic_delta == sw.pic_delta && next.tl0_delta == sw.tl0_delta);
}

/* The first packet ever steps 33 ms from the random start; a switch after a minute of
 * silence steps 60 s at most, one in the same ms steps 1 ms (timestamps never repeat
 * across sources). Audio steps by its own clock. */
static void test_steps(void) {
  rtp_renumber r;
  rtp_renumber_init(&r);
  uint32_t start = r.last_ts;
  rtp_vpx_ids none = {0};
  rtp_header h = header(1, 100);
  rtp_renumbered as = rtp_renumber_next(&r, &h, &none, 48000, 5000);
  CHECK(as.ts == start + 33 * 48);
  r.started = false;
  h = header(900, 1);
  rtp_renumbered later = rtp_renumber_next(&r, &h, &none, 48000, 5000 + 3600000);
  CHECK(later.ts == as.ts + 60000 * 48);
  r.started = false;
  h = header(7, 1);
  rtp_renumbered same = rtp_renumber_next(&r, &h, &none, 48000, 5000 + 3600000);
  CHECK(same.ts == later.ts + 48);
}

/* A packet reordered behind newer ones does not pull back where a switch starts. */
static void test_reordered(void) {
  rtp_renumber r;
  rtp_renumber_init(&r);
  rtp_vpx_ids ids = {.has_pic = true, .pic_15bit = true, .pic = 10};
  rtp_header h = header(200, 0);
  rtp_renumbered a = rtp_renumber_next(&r, &h, &ids, 90000, 100);
  ids.pic = 11;
  h = header(202, 3000);
  rtp_renumbered c = rtp_renumber_next(&r, &h, &ids, 90000, 133);
  ids.pic = 10;
  h = header(201, 0); /* late */
  rtp_renumber_next(&r, &h, &ids, 90000, 140);
  r.started = false;
  ids.pic = 500;
  h = header(9, 0);
  rtp_renumbered sw = rtp_renumber_next(&r, &h, &ids, 90000, 166);
  CHECK(sw.seq == (uint16_t)(a.seq + 3));
  CHECK(sw.ts == c.ts + 33 * 90);
  CHECK(((500 + sw.pic_delta) & 0x7fff) == ((11 + a.pic_delta + 1) & 0x7fff));
}

int main(void) {
  test_read_vp8();
  test_read_vp9();
  test_shift();
  test_switch();
  test_steps();
  test_reordered();
  CHECK_DONE();
}
