/* test_rtp — RTP header parsing against hand-assembled packets (RFC 3550, 8285, 6464),
 * keyframe detection for VP8, VP9 and H.264, demultiplexing, and malformed input. */
#include "check.h"
#include "rtc/rtp.h"
#include "rtc/rtp_cache.h"

#include <stdint.h>

/* A 12-byte header (V=2, PT 96, seq 0x1234, ts 0xdeadbeef, SSRC 0x11223344) with the
 * given first byte, followed by body. */
static size_t packet(uint8_t *out, uint8_t first, const uint8_t *body, size_t n) {
  rtp_write_header(out, 96, false, 0x1234, 0xdeadbeef, 0x11223344);
  out[0] = first;
  memcpy(out + 12, body, n);
  return 12 + n;
}

static void test_fixed_header(void) {
  static const uint8_t pkt[] = {0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
                                0x11, 0x22, 0x33, 0x44, 'a',  'b',  'c'};
  rtp_header h;
  CHECK(rtp_parse(pkt, sizeof pkt, &h) == 0);
  CHECK(h.marker && h.payload_type == 96 && !h.has_padding);
  CHECK(h.seq == 0x1234 && h.timestamp == 0xdeadbeef && h.ssrc == 0x11223344);
  CHECK(h.csrc_count == 0 && h.header_len == 12 && h.payload_offset == 12);
  CHECK(h.payload_len == 3 && h.ext_offset == 0 && h.ext_profile == 0);
  CHECK(rtp_parse(pkt, 12, &h) == 0 && h.payload_len == 0);
  CHECK(rtp_parse(pkt, 11, &h) == -1);
  uint8_t v1[sizeof pkt];
  memcpy(v1, pkt, sizeof v1);
  v1[0] = 0x40; /* version 1 */
  CHECK(rtp_parse(v1, sizeof v1, &h) == -1);
}

static void test_csrcs(void) {
  static const uint8_t body[] = {0, 0, 0, 1, 0, 0, 0, 2, 0xaa};
  uint8_t pkt[64];
  size_t n = packet(pkt, 0x82, body, sizeof body);
  rtp_header h;
  CHECK(rtp_parse(pkt, n, &h) == 0);
  CHECK(h.csrc_count == 2 && h.header_len == 20 && h.payload_len == 1);
  CHECK(rtp_parse(pkt, 19, &h) == -1); /* CSRC list cut short */
  pkt[0] = 0x8f;                       /* 15 CSRCs: 72 bytes of header */
  CHECK(rtp_parse(pkt, n, &h) == -1);
}

static void test_padding(void) {
  /* 4 payload bytes, then 3 padding bytes whose last one counts them. */
  static const uint8_t body[] = {1, 2, 3, 4, 0, 0, 3};
  uint8_t pkt[64];
  size_t n = packet(pkt, 0xa0, body, sizeof body);
  rtp_header h;
  CHECK(rtp_parse(pkt, n, &h) == 0);
  CHECK(h.has_padding && h.payload_len == 4);
  pkt[n - 1] = 7; /* all of the payload is padding: allowed */
  CHECK(rtp_parse(pkt, n, &h) == 0 && h.payload_len == 0);
  pkt[n - 1] = 8; /* more padding than payload */
  CHECK(rtp_parse(pkt, n, &h) == -1);
  pkt[n - 1] = 0; /* the count includes itself, so 0 is impossible */
  CHECK(rtp_parse(pkt, n, &h) == -1);
  CHECK(rtp_parse(pkt, 12, &h) == -1); /* P set, no payload at all */
}

/* One-byte form: audio level (id 1) 0xaa, a padding byte, id 2 with 3 bytes, and a
 * trailing padding byte; 2 words. */
static const uint8_t one_byte_ext[] = {0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0x00,
                                       0x22, 0x01, 0x02, 0x03, 0x00, 0x55, 0x66};

static void test_one_byte_extension(void) {
  uint8_t pkt[64];
  size_t n = packet(pkt, 0x90, one_byte_ext, sizeof one_byte_ext);
  rtp_header h;
  CHECK(rtp_parse(pkt, n, &h) == 0);
  CHECK(h.ext_profile == 0xbede && h.ext_offset == 16 && h.ext_len == 8);
  CHECK(h.header_len == 24 && h.payload_len == 2 && pkt[h.payload_offset] == 0x55);
  const uint8_t *d;
  size_t len;
  CHECK(rtp_ext_find(pkt, &h, 1, &d, &len) == 0 && len == 1 && d[0] == 0xaa);
  CHECK(rtp_ext_find(pkt, &h, 2, &d, &len) == 0 && len == 3 && d == pkt + 20);
  CHECK(d[0] == 1 && d[2] == 3);
  CHECK(rtp_ext_find(pkt, &h, 3, &d, &len) == -1);
  CHECK(rtp_ext_find(pkt, &h, 0, &d, &len) == -1);
  CHECK(rtp_ext_find(pkt, &h, 15, &d, &len) == -1);
  int level = -1;
  bool voice = false;
  CHECK(rtp_audio_level(pkt, &h, 1, &level, &voice) == 0 && voice && level == 42);
  CHECK(rtp_audio_level(pkt, &h, 4, &level, &voice) == -1);

  pkt[16] = 0xf0; /* id 15: stop, nothing after it is read */
  CHECK(rtp_ext_find(pkt, &h, 2, &d, &len) == -1);
  pkt[16] = 0x10;
  pkt[19] = 0x25; /* id 2 claims 6 bytes: runs past the block */
  CHECK(rtp_ext_find(pkt, &h, 2, &d, &len) == -1);
  CHECK(rtp_ext_find(pkt, &h, 1, &d, &len) == 0); /* found before the bad one */

  pkt[15] = 0x03; /* block of 3 words runs past the packet */
  CHECK(rtp_parse(pkt, n, &h) == -1);
  CHECK(rtp_parse(pkt, 15, &h) == -1); /* extension header cut short */
}

static void test_two_byte_extension(void) {
  /* id 1 with no data, id 2 with 3 bytes, a padding byte; then id 9 with 4 bytes. */
  static const uint8_t ext[] = {0x10, 0x00, 0x00, 0x04, 0x01, 0x00, 0x02,
                                0x03, 0x0a, 0x0b, 0x0c, 0x00, 0x09, 0x04,
                                0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x77};
  uint8_t pkt[64];
  size_t n = packet(pkt, 0x90, ext, sizeof ext);
  rtp_header h;
  CHECK(rtp_parse(pkt, n, &h) == 0);
  CHECK(h.ext_profile == 0x1000 && h.ext_len == 16 && h.payload_len == 1);
  const uint8_t *d;
  size_t len;
  CHECK(rtp_ext_find(pkt, &h, 1, &d, &len) == 0 && len == 0);
  CHECK(rtp_ext_find(pkt, &h, 2, &d, &len) == 0 && len == 3 && d[0] == 0x0a);
  CHECK(rtp_ext_find(pkt, &h, 9, &d, &len) == 0 && len == 4 && d[0] == 0x80);
  CHECK(rtp_ext_find(pkt, &h, 200, &d, &len) == -1);
  int level;
  bool voice;
  CHECK(rtp_audio_level(pkt, &h, 9, &level, &voice) == 0 && voice && level == 0);
  CHECK(rtp_audio_level(pkt, &h, 1, &level, &voice) == -1); /* no data byte */
  pkt[16 + 9] = 0x07; /* id 9 claims 7 bytes: one past the block */
  CHECK(rtp_ext_find(pkt, &h, 9, &d, &len) == -1);
  CHECK(rtp_ext_find(pkt, &h, 2, &d, &len) == 0);
  pkt[12] = 0x12; /* profile 0x1200 is not an RFC 8285 block */
  CHECK(rtp_parse(pkt, n, &h) == 0 && rtp_ext_find(pkt, &h, 1, &d, &len) == -1);
}

static void test_demux(void) {
  static const uint8_t rtp[12] = {0x80, 0x60};
  static const uint8_t rtcp[12] = {0x81, 0xc8};
  static const uint8_t stun[20] = {0x00, 0x01};
  static const uint8_t dtls[20] = {0x16, 0xfe};
  CHECK(rtp_looks_like_rtp(rtp, sizeof rtp) && !rtp_looks_like_rtcp(rtp, sizeof rtp));
  CHECK(rtp_looks_like_rtcp(rtcp, sizeof rtcp) && !rtp_looks_like_rtp(rtcp, sizeof rtcp));
  CHECK(!rtp_looks_like_rtp(stun, sizeof stun) &&
        !rtp_looks_like_rtcp(stun, sizeof stun));
  CHECK(!rtp_looks_like_rtp(dtls, sizeof dtls) &&
        !rtp_looks_like_rtcp(dtls, sizeof dtls));
  CHECK(!rtp_looks_like_rtp(rtp, 11) && !rtp_looks_like_rtcp(rtcp, 7));
  static const uint8_t low[8] = {0x80, 0xc0}, high[8] = {0xbf, 0xdf};
  CHECK(rtp_looks_like_rtcp(low, 8) && rtp_looks_like_rtcp(high, 8)); /* 192, 223 */
  static const uint8_t pt_224[12] = {0x80, 0xe0}, first_192[12] = {0xc0, 0x60};
  CHECK(rtp_looks_like_rtp(pt_224, 12) && !rtp_looks_like_rtcp(pt_224, 12));
  CHECK(!rtp_looks_like_rtp(first_192, 12) && !rtp_looks_like_rtcp(first_192, 12));
}

static bool key(rtp_codec codec, const uint8_t *payload, size_t n) {
  uint8_t pkt[128];
  size_t len = packet(pkt, 0x80, payload, n);
  rtp_header h;
  if (rtp_parse(pkt, len, &h) != 0)
    return false;
  return rtp_is_keyframe_start(pkt, &h, codec);
}

static void test_vp8(void) {
  /* RFC 7741: descriptor S=1 PID=0, then a key frame's tag (P=0) and start code. */
  uint8_t basic[] = {0x10, 0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a};
  CHECK(key(RTP_CODEC_VP8, basic, sizeof basic));
  CHECK(!key(RTP_CODEC_OPUS, basic, sizeof basic));
  basic[1] = 0x51; /* P=1: inter frame */
  CHECK(!key(RTP_CODEC_VP8, basic, sizeof basic));
  basic[1] = 0x50;
  basic[0] = 0x00; /* S=0: continuation */
  CHECK(!key(RTP_CODEC_VP8, basic, sizeof basic));
  basic[0] = 0x11; /* PID 1 */
  CHECK(!key(RTP_CODEC_VP8, basic, sizeof basic));
  CHECK(!key(RTP_CODEC_VP8, basic, 1));

  /* X with I (15-bit picture ID), L, T: every byte around the tag has P's bit set,
   * so reading one byte off either way answers "not a key frame". */
  uint8_t ext[] = {0x90, 0xe0, 0x80, 0x01, 0x03, 0x41, 0x50, 0x01, 0x00, 0x9d};
  CHECK(key(RTP_CODEC_VP8, ext, sizeof ext));
  ext[2] = 0x05; /* 7-bit picture ID: the tag is now read one byte early */
  CHECK(!key(RTP_CODEC_VP8, ext, sizeof ext));
  ext[2] = 0x80;
  ext[1] = 0xd0; /* I, L, K (no T): still one TID/KEYIDX byte */
  CHECK(key(RTP_CODEC_VP8, ext, sizeof ext));
  CHECK(!key(RTP_CODEC_VP8, ext, 6)); /* descriptor without the frame */
  CHECK(!key(RTP_CODEC_VP8, ext, 2));
}

static void test_vp9(void) {
  /* RFC 9628: I L B V, 15-bit picture ID, layer indices + TL0PICIDX (non-flexible),
   * SS with Y (640x480) and G (1 group: TID 0, R 1, one P_DIFF), then the frame. */
  uint8_t kf[] = {0xaa, 0x80, 0x01, 0x00, 0x00, 0x18, 0x02, 0x80,
                  0x01, 0xe0, 0x01, 0x04, 0x01, 0x82, 0x49, 0x83};
  CHECK(key(RTP_CODEC_VP9, kf, sizeof kf));
  CHECK(!key(RTP_CODEC_VP9, kf, 12)); /* SS cut inside the group description */
  CHECK(!key(RTP_CODEC_VP9, kf, 13)); /* descriptor complete, no frame data */
  kf[0] = 0xea;                       /* P: inter-picture predicted */
  CHECK(!key(RTP_CODEC_VP9, kf, sizeof kf));
  kf[0] = 0xa2; /* B clear: not the start of a frame */
  CHECK(!key(RTP_CODEC_VP9, kf, sizeof kf));
  kf[0] = 0xaa;
  kf[3] = 0x02; /* SID 1: a higher spatial layer, not where the picture starts */
  CHECK(!key(RTP_CODEC_VP9, kf, sizeof kf));
  static const uint8_t plain[] = {0x0c, 0x82, 0x49, 0x83}; /* B E only */
  CHECK(key(RTP_CODEC_VP9, plain, sizeof plain));
  static const uint8_t flexible[] = {0xb8, 0x05, 0x00, 0x82}; /* I L F B, 7-bit ID */
  CHECK(key(RTP_CODEC_VP9, flexible, sizeof flexible));
  CHECK(!key(RTP_CODEC_VP9, flexible, 3));
}

static void test_h264(void) {
  static const uint8_t idr[] = {0x65, 0x88, 0x84};
  static const uint8_t sps[] = {0x67, 0x42, 0x00, 0x1f};
  static const uint8_t slice[] = {0x41, 0x9a};
  CHECK(key(RTP_CODEC_H264, idr, sizeof idr));
  CHECK(key(RTP_CODEC_H264, sps, sizeof sps));
  CHECK(!key(RTP_CODEC_H264, slice, sizeof slice));
  CHECK(!key(RTP_CODEC_H264, idr, 0));

  /* STAP-A (RFC 6184 §5.7.1): a PPS, then an SPS. */
  uint8_t stap[] = {0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x04, 0x67, 0x42, 0x00, 0x1f};
  CHECK(key(RTP_CODEC_H264, stap, sizeof stap));
  CHECK(!key(RTP_CODEC_H264, stap, 7)); /* SPS's size field lies */
  CHECK(!key(RTP_CODEC_H264, stap, 5)); /* PPS only */
  stap[2] = 0x20;                       /* PPS's size runs past the end */
  CHECK(!key(RTP_CODEC_H264, stap, sizeof stap));
  stap[2] = 0x00; /* a zero-size unit is malformed */
  CHECK(!key(RTP_CODEC_H264, stap, sizeof stap));
  static const uint8_t empty_unit[] = {0x78, 0x00, 0x00, 0x67,
                                       0x42}; /* no size for SPS */
  CHECK(!key(RTP_CODEC_H264, empty_unit, sizeof empty_unit));

  /* FU-A (§5.8): FU indicator type 28, FU header S bit + inner type. */
  uint8_t fu[] = {0x7c, 0x85, 0x88, 0x84};
  CHECK(key(RTP_CODEC_H264, fu, sizeof fu));
  CHECK(!key(RTP_CODEC_H264, fu, 1));
  fu[1] = 0x05; /* middle fragment */
  CHECK(!key(RTP_CODEC_H264, fu, sizeof fu));
  fu[1] = 0x81; /* start of a non-IDR slice */
  CHECK(!key(RTP_CODEC_H264, fu, sizeof fu));
}

static void test_rewrite(void) {
  uint8_t pkt[32] = {0};
  CHECK(rtp_write_header(pkt, 111, true, 65535, 0xfffffff0, 7) == 12);
  static const uint8_t want[] = {0x80, 0xef, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xf0, 0x00, 0x00, 0x00, 0x07};
  CHECK(memcmp(pkt, want, sizeof want) == 0);
  rtp_set_seq(pkt, 0);
  rtp_set_timestamp(pkt, 0x01020304);
  rtp_set_ssrc(pkt, 0xcafebabe);
  rtp_set_payload_type(pkt, 96);
  rtp_header h;
  CHECK(rtp_parse(pkt, 12, &h) == 0);
  CHECK(h.seq == 0 && h.timestamp == 0x01020304 && h.ssrc == 0xcafebabe);
  CHECK(h.payload_type == 96 && h.marker); /* the marker survives a PT change */
  CHECK(rtp_write_header(pkt, 0, false, 1, 2, 3) == 12 && pkt[1] == 0);
}

static void test_seq_newer(void) {
  CHECK(rtp_seq_newer(0, 65535));
  CHECK(!rtp_seq_newer(65535, 0));
  CHECK(rtp_seq_newer(100, 99) && !rtp_seq_newer(99, 100));
  CHECK(!rtp_seq_newer(5, 5));
}

/* Forwarding strips the sender's extension block: payload intact, X bit cleared. */
static void test_strip_extensions(void) {
  uint8_t pkt[64] = {0x90, 96,   0,  1, 0,    0,    0, 2, 0, 0, 0, 3, /* X set */
                     0xBE, 0xDE, 0,  1, 0x10, 0xAA, 0, 0, /* one element, padded */
                     'p',  'a',  'y'};
  rtp_header h;
  CHECK(rtp_parse(pkt, 23, &h) == 0 && h.ext_profile == 0xBEDE);
  size_t n = rtp_strip_extensions(pkt, 23, &h);
  CHECK(n == 15 && !(pkt[0] & 0x10) && memcmp(pkt + 12, "pay", 3) == 0);
  CHECK(rtp_parse(pkt, n, &h) == 0 && h.ext_profile == 0 && h.payload_len == 3);
  CHECK(rtp_strip_extensions(pkt, n, &h) == n);
}

/* The VP8 payload descriptor's length: 1 byte, or X with I (7 or 15 bits), L, T/K. */
static void test_vp8_descriptor(void) {
  const uint8_t plain[] = {0x10, 0x9d};
  CHECK(rtp_vp8_descriptor_len(plain, 2) == 1);
  const uint8_t ext[] = {0x90, 0xc0, 0x80, 0x01, 0x05, 0x9d};
  CHECK(rtp_vp8_descriptor_len(ext, sizeof ext) == 5); /* I (15 bits), L */
  const uint8_t short_pid[] = {0x90, 0x80, 0x01, 0x9d};
  CHECK(rtp_vp8_descriptor_len(short_pid, sizeof short_pid) == 3);
  CHECK(rtp_vp8_descriptor_len(ext, 5) == -1); /* ends inside it */
  CHECK(rtp_vp8_descriptor_len(plain, 0) == -1);
}

/* The cache starts small and doubles only while it would overwrite a packet younger
 * than RTP_CACHE_KEEP_MS (a receiver NACKing 250 ms after a loss); every packet of that
 * second stays retrievable. */
static void test_cache_grows(void) {
  rtp_cache *c = rtp_cache_new();
  rtp_cache_note_nack_delay(c, 250, 0);
  CHECK(c->keep_ms == RTP_CACHE_KEEP_MS);
  uint8_t pkt[100] = {0x80};
  CHECK(c->n_slots == RTP_CACHE_MIN_SLOTS);
  /* 20 packets a second: never more than the minimum. */
  for (uint16_t i = 0; i < 200; i++)
    rtp_cache_put(c, pkt, sizeof pkt, i, (uint64_t)i * 50);
  CHECK(c->n_slots == RTP_CACHE_MIN_SLOTS);
  size_t len;
  uint64_t kept;
  CHECK(rtp_cache_get(c, 199, &len, &kept) &&
        !rtp_cache_get(c, 199 - RTP_CACHE_MIN_SLOTS, &len, &kept));
  /* 200 a second: 256 slots hold the last second. */
  for (uint16_t i = 200; i < 1200; i++) {
    pkt[1] = (uint8_t)i;
    rtp_cache_put(c, pkt, sizeof pkt, i, 10000 + (uint64_t)(i - 200) * 5);
  }
  CHECK(c->n_slots == 256);
  for (uint16_t i = 1000; i < 1200; i++) {
    const uint8_t *got = rtp_cache_get(c, i, &len, &kept);
    CHECK(got && len == sizeof pkt && got[1] == (uint8_t)i);
  }
  CHECK(c->cap == RTP_CACHE_MIN_BYTES); /* 20 KB/s: 32 KiB hold more than a second */
  /* 2,000 a second: capped at RTP_CACHE_SLOTS. */
  for (uint16_t i = 1200; i < 4000; i++)
    rtp_cache_put(c, pkt, sizeof pkt, i, 20000 + (uint64_t)(i - 1200) / 2);
  CHECK(c->n_slots == RTP_CACHE_SLOTS);
  rtp_cache_release(c);
}

/* Bytes a packet of seq carries, so a wrong packet (or a torn one) is seen. */
static uint8_t fill_byte(uint16_t seq, size_t i) { return (uint8_t)(seq * 7 + i * 13); }

/* Puts n packets of the given sizes at pps; then every packet of the last second is
 * retrievable whole, and nothing ever comes back that is not what was put. */
static void run_cache(rtp_cache *c, uint16_t *seq, uint64_t *now_us, unsigned n,
                      unsigned pps, size_t min_len, size_t max_len, uint32_t *rng) {
  static uint8_t pkt[RTP_MAX_PACKET];
  static size_t lens[65536];
  static uint64_t when[65536];
  for (unsigned k = 0; k < n; k++, (*seq)++) {
    *rng = *rng * 1103515245u + 12345u;
    size_t len = min_len + (*rng >> 8) % (max_len - min_len + 1);
    for (size_t i = 0; i < len; i++)
      pkt[i] = fill_byte(*seq, i);
    *now_us += 1000000 / pps;
    rtp_cache_put(c, pkt, len, *seq, *now_us / 1000);
    lens[*seq] = len;
    when[*seq] = *now_us / 1000;
  }
  /* The last second (below RTP_CACHE_SLOTS packets, the index's bound): all there. */
  uint64_t now = *now_us / 1000;
  for (uint16_t back = 1; back < 4096 && back <= n; back++) {
    uint16_t q = (uint16_t)(*seq - back);
    size_t len;
    uint64_t kept;
    const uint8_t *got = rtp_cache_get(c, q, &len, &kept);
    if (now - when[q] < c->keep_ms && back < RTP_CACHE_SLOTS &&
        c->cap < RTP_CACHE_MAX_BYTES)
      CHECK(got != NULL);
    if (!got)
      continue;
    CHECK(len == lens[q] && kept == when[q]);
    bool same = true;
    for (size_t i = 0; i < len; i++)
      same = same && got[i] == fill_byte(q, i);
    CHECK(same);
  }
}

/* The byte ring grows to the stream's byte rate, not to slots of RTP_MAX_PACKET: 1 Mbit/s
 * of 1,200-byte packets keeps ~120 KB, not 128 slots of 1.5 KB; a 150 kbit/s layer
 * stays at the minimum; a 20 Mbit/s flood stops at the maximum. */
static void test_cache_ring(void) {
  uint32_t rng = 1;
  uint16_t seq = 65000; /* wraps on the way */
  uint64_t now_us = 5000000;
  rtp_cache *c = rtp_cache_new();
  rtp_cache_note_nack_delay(c, 300, now_us / 1000);      /* a horizon of 1 s */
  run_cache(c, &seq, &now_us, 400, 15, 900, 1300, &rng); /* ~130 kbit/s */
  CHECK(c->cap == RTP_CACHE_MIN_BYTES);
  run_cache(c, &seq, &now_us, 1000, 100, 1200, 1200, &rng); /* ~1 Mbit/s */
  CHECK(c->cap >= 120000 && c->cap <= 150 * 1024);
  run_cache(c, &seq, &now_us, 3000, 100, 1, RTP_MAX_PACKET,
            &rng); /* same rate, odd sizes */
  CHECK(c->cap <= 150 * 1024);
  run_cache(c, &seq, &now_us, 3000, 250, 1100, 1300, &rng); /* ~2.4 Mbit/s */
  CHECK(c->cap >= 300000 && c->cap <= 420 * 1024);
  run_cache(c, &seq, &now_us, 6000, 2000, 1200, 1300, &rng); /* ~20 Mbit/s */
  CHECK(c->cap == RTP_CACHE_MAX_BYTES && c->n_slots == RTP_CACHE_SLOTS);
  rtp_cache_release(c);
  /* A keyframe burst into a fresh cache: 60 packets at once, then a trickle. */
  c = rtp_cache_new();
  rtp_cache_note_nack_delay(c, 300, now_us / 1000);
  run_cache(c, &seq, &now_us, 60, 100000, 1200, 1200, &rng);
  run_cache(c, &seq, &now_us, 300, 30, 300, 1200, &rng);
  CHECK(c->cap <= 256 * 1024);
  rtp_cache_release(c);
}

/* The horizon follows the receivers' NACK delays: 250 ms until a NACK comes (1 Mbit/s
 * then fits the first 32 KiB), 4 delays when larger, the largest of the last 5 s
 * winning, and never more than 1 s. Whatever the horizon, every packet younger than it is
 * there. */
static void test_cache_horizon(void) {
  uint32_t rng = 7;
  uint16_t seq = 100;
  uint64_t now_us = 1000000;
  rtp_cache *c = rtp_cache_new();
  CHECK(c->keep_ms == RTP_CACHE_KEEP_MIN_MS);
  run_cache(c, &seq, &now_us, 1000, 100, 1200, 1200, &rng); /* ~1 Mbit/s, 10 s */
  CHECK(c->cap <= 40 * 1024);
  rtp_cache_note_nack_delay(c, 20, now_us / 1000); /* 80 ms: the minimum stays */
  CHECK(c->keep_ms == RTP_CACHE_KEEP_MIN_MS);
  rtp_cache_note_nack_delay(c, 120, now_us / 1000);
  CHECK(c->keep_ms == 480);
  run_cache(c, &seq, &now_us, 500, 100, 1200, 1200, &rng);
  CHECK(c->cap >= 480 * 120 && c->cap <= 80 * 1024);
  rtp_cache_note_nack_delay(c, 30, now_us / 1000); /* the largest of the window holds */
  CHECK(c->keep_ms == 480);
  now_us += (RTP_CACHE_DELAY_WINDOW_MS + 1) * 1000;
  rtp_cache_note_nack_delay(c, 30, now_us / 1000); /* then the newest */
  CHECK(c->keep_ms == RTP_CACHE_KEEP_MIN_MS);
  rtp_cache_note_nack_delay(c, 900, now_us / 1000);
  CHECK(c->keep_ms == RTP_CACHE_KEEP_MS);
  rtp_cache_release(c);
}

/* A ring grown for a burst shrinks back once it has held far more than the horizon for
 * RTP_CACHE_SHRINK_AFTER_MS, halving down to the minimum, and every packet younger than
 * the horizon answers a NACK throughout. */
static void test_cache_shrinks(void) {
  rtp_cache *c = rtp_cache_new();
  uint8_t big[1200] = {0x80}, small[100] = {0x80};
  uint64_t t = 1000;
  uint16_t seq = 0;
  /* 2 s at 1,000 packets of 1,200 bytes a second (~10 Mbit/s). */
  for (int i = 0; i < 2000; i++, t++)
    rtp_cache_put(c, big, sizeof big, seq++, t);
  size_t grown = c->cap;
  CHECK(grown >= 256 * 1024);
  /* Then 50 packets of 100 bytes a second (40 kbit/s) for 5 minutes. */
  size_t len;
  uint64_t kept;
  bool answered = true;
  size_t prev = c->cap;
  unsigned steps = 0;
  for (int i = 0; i < 50 * 300; i++, t += 20) {
    small[1] = (uint8_t)seq;
    rtp_cache_put(c, small, sizeof small, seq++, t);
    if (c->cap != prev) {
      CHECK(c->cap < prev); /* never grown back meanwhile */
      prev = c->cap;
      steps++;
    }
    /* Everything kept within the horizon (250 ms: 13 packets) is still there. */
    for (uint16_t k = 1; k <= 13 && i >= 13; k++) {
      const uint8_t *got = rtp_cache_get(c, (uint16_t)(seq - k), &len, &kept);
      if (!got || got[1] != (uint8_t)(seq - k) || len != sizeof small)
        answered = false;
    }
  }
  CHECK(answered);
  CHECK(c->cap == RTP_CACHE_MIN_BYTES);
  CHECK(steps >= 3 && c->shrinks == steps);
  /* A steady stream that fills about one horizon of the ring never shrinks it: 32 KiB
   * at 100 KB/s is ~330 ms, under 4 horizons. */
  for (int i = 0; i < 1000 * 30; i++, t++)
    rtp_cache_put(c, small, sizeof small, seq++, t);
  CHECK(c->cap == RTP_CACHE_MIN_BYTES && c->shrinks == steps);
  rtp_cache_release(c);
}

int main(void) {
  test_vp8_descriptor();
  test_cache_horizon();
  test_cache_grows();
  test_cache_shrinks();
  test_cache_ring();
  test_strip_extensions();
  test_fixed_header();
  test_csrcs();
  test_padding();
  test_one_byte_extension();
  test_two_byte_extension();
  test_demux();
  test_vp8();
  test_vp9();
  test_h264();
  test_rewrite();
  test_seq_newer();
  CHECK_DONE();
}
