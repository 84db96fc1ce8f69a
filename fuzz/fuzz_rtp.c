/* fuzz_rtp — libFuzzer harness for RTP: rtp_parse on an exact-size copy of the input,
 * then every extension id, the audio level, keyframe detection, VP8/VP9 picture ids and
 * in-place rewrites. */
#include "rtc/dtmf.h"
#include "rtc/rtp.h"
#include "rtc/rtp_cache.h"
#include "rtc/rtp_renumber.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Whatever the header says lies inside the packet, in order. */
static void check_header(const rtp_header *h, size_t size) {
  CHECK(h->header_len == h->payload_offset);
  CHECK(h->header_len >= 12 + 4 * (size_t)h->csrc_count);
  CHECK(h->payload_offset + h->payload_len <= size);
  CHECK(h->has_padding || h->payload_offset + h->payload_len == size);
  if (h->ext_offset) {
    CHECK(h->ext_offset == 16 + 4 * (size_t)h->csrc_count);
    CHECK(h->ext_offset + h->ext_len == h->header_len && h->ext_len % 4 == 0);
  } else {
    CHECK(h->ext_len == 0 && h->header_len == 12 + 4 * (size_t)h->csrc_count);
  }
}

static void check_extensions(const uint8_t *pkt, const rtp_header *h) {
  for (unsigned id = 0; id < 256; id++) {
    const uint8_t *d = NULL;
    size_t len = 0;
    if (rtp_ext_find(pkt, h, (uint8_t)id, &d, &len) != 0)
      continue;
    CHECK(id >= 1 && (id <= 14 || h->ext_profile != 0xbede));
    CHECK(d >= pkt + h->ext_offset && d + len <= pkt + h->ext_offset + h->ext_len);
    int level = -1;
    bool voice;
    if (rtp_audio_level(pkt, h, (uint8_t)id, &level, &voice) == 0)
      CHECK(len >= 1 && level >= 0 && level <= 127 && voice == (d[0] >> 7));
  }
}

/* Rewriting the fields changes them and nothing else the parser sees. */
static void check_rewrite(uint8_t *pkt, size_t size, const rtp_header *h) {
  rtp_set_seq(pkt, (uint16_t)(h->seq + 1));
  rtp_set_timestamp(pkt, ~h->timestamp);
  rtp_set_ssrc(pkt, h->ssrc ^ 0x5a5a5a5a);
  rtp_set_payload_type(pkt, (uint8_t)(h->payload_type + 1));
  rtp_header r;
  CHECK(rtp_parse(pkt, size, &r) == 0);
  CHECK(r.seq == (uint16_t)(h->seq + 1) && r.timestamp == ~h->timestamp);
  CHECK(r.ssrc == (h->ssrc ^ 0x5a5a5a5a) && r.marker == h->marker);
  CHECK(r.payload_type == ((h->payload_type + 1) & 0x7f));
  CHECK(r.header_len == h->header_len && r.payload_len == h->payload_len);
  CHECK(r.ext_offset == h->ext_offset && r.ext_len == h->ext_len);
}

/* Picture ids lie inside the payload; shifting them and back leaves it as it was, and
 * shifting by some delta reads back as the id plus that delta. */
static void check_vpx_ids(const uint8_t *payload, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (len)
    memcpy(copy, payload, len);
  for (int c = RTP_CODEC_VP8; c <= RTP_CODEC_VP9; c++) {
    rtp_vpx_ids ids, back;
    if (rtp_vpx_ids_read(copy, len, (rtp_codec)c, &ids) != 0) {
      CHECK(!ids.has_pic && !ids.has_tl0);
      continue;
    }
    CHECK(!ids.has_pic || ids.pic_at + (ids.pic_15bit ? 2u : 1u) <= len);
    CHECK(!ids.has_tl0 || ids.tl0_at < len);
    rtp_vpx_ids_shift(copy, &ids, 0x1235, 77);
    CHECK(rtp_vpx_ids_read(copy, len, (rtp_codec)c, &back) == 0);
    CHECK(back.has_pic == ids.has_pic && back.pic_15bit == ids.pic_15bit);
    CHECK(!ids.has_pic ||
          back.pic == ((ids.pic + 0x1235) & (ids.pic_15bit ? 0x7fff : 0x7f)));
    CHECK(!ids.has_tl0 || back.tl0 == (uint8_t)(ids.tl0 + 77));
    rtp_vpx_ids_shift(copy, &back, (uint16_t)-0x1235, (uint8_t)-77);
    CHECK(len == 0 || memcmp(copy, payload, len) == 0);
  }
  free(copy);
}

static rtp_cache *cache; /* made once */

static void check_cache(const uint8_t *pkt, size_t size, uint16_t seq) {
  if (!cache)
    cache = rtp_cache_new();
  rtp_cache_put(cache, pkt, size, seq, 1);
  size_t len;
  uint64_t kept;
  const uint8_t *got = rtp_cache_get(cache, seq, &len, &kept);
  if (size == 0 || size > RTP_MAX_PACKET) {
    CHECK(got == NULL);
    return;
  }
  CHECK(got && len == size && kept == 1 && memcmp(got, pkt, size) == 0);
  CHECK(rtp_cache_get(cache, (uint16_t)(seq + RTP_CACHE_SLOTS), &len, &kept) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *pkt = malloc(size ? size : 1); /* exact size: ASan sees any overread */
  if (size)
    memcpy(pkt, data, size);
  bool is_rtp = rtp_looks_like_rtp(pkt, size), is_rtcp = rtp_looks_like_rtcp(pkt, size);
  CHECK(!(is_rtp && is_rtcp));
  rtp_header h;
  if (rtp_parse(pkt, size, &h) == 0) {
    /* The payload as an RFC 4733 event, as the routers read telephone-event packets. */
    dtmf_event ev;
    if (dtmf_parse(pkt + h.payload_offset, h.payload_len, &ev) == 0)
      CHECK(h.payload_len >= 4);
    check_header(&h, size);
    check_extensions(pkt, &h);
    for (int c = RTP_CODEC_OPUS; c <= RTP_CODEC_H264; c++)
      (void)rtp_is_keyframe_start(pkt, &h, (rtp_codec)c);
    int d = rtp_vp8_descriptor_len(pkt + h.payload_offset, h.payload_len);
    CHECK(d == -1 || (d >= 1 && (size_t)d < h.payload_len));
    check_vpx_ids(pkt + h.payload_offset, h.payload_len);
    check_cache(pkt, size, h.seq);
    check_rewrite(pkt, size, &h);
  }
  free(pkt);
  return 0;
}
