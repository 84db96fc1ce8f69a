/* rtp — RTP header parsing with RFC 8285 extensions, RFC 6464 audio levels, keyframe
 * detection for VP8, VP9 and H.264, and in-place rewriting; every read is bounded. */
#include "rtc/rtp.h"

#include "core/bytes.h"

#include <string.h>

#define RTP_FIXED_HEADER 12
#define EXT_ONE_BYTE 0xBEDE
#define EXT_TWO_BYTE_MASK 0xFFF0
#define EXT_TWO_BYTE 0x1000

/* RFC 7983 §7: the first byte of RTP and RTCP is 128..191; RFC 5761 §4: RTCP
 * packet types 192..223 sit where RTP has marker + payload type. */
bool rtp_looks_like_rtcp(const uint8_t *pkt, size_t len) {
  return len >= 8 && pkt[0] >= 128 && pkt[0] <= 191 && pkt[1] >= 192 && pkt[1] <= 223;
}

bool rtp_looks_like_rtp(const uint8_t *pkt, size_t len) {
  return len >= RTP_FIXED_HEADER && pkt[0] >= 128 && pkt[0] <= 191 &&
         !(pkt[1] >= 192 && pkt[1] <= 223);
}

/* The extension block (RFC 3550 §5.3.1) at off: 16-bit profile, length in words. */
static int parse_extension(const uint8_t *pkt, size_t len, size_t off, rtp_header *h) {
  if (len - off < 4)
    return -1;
  size_t ext_len = (size_t)rd16(pkt + off + 2) * 4;
  if (len - off - 4 < ext_len)
    return -1;
  h->ext_profile = rd16(pkt + off);
  h->ext_offset = off + 4;
  h->ext_len = ext_len;
  return 0;
}

int rtp_parse(const uint8_t *pkt, size_t len, rtp_header *h) {
  memset(h, 0, sizeof *h);
  if (len < RTP_FIXED_HEADER || pkt[0] >> 6 != 2)
    return -1;
  h->has_padding = pkt[0] & 0x20;
  h->csrc_count = pkt[0] & 0x0f;
  h->marker = pkt[1] & 0x80;
  h->payload_type = pkt[1] & 0x7f;
  h->seq = rd16(pkt + 2);
  h->timestamp = rd32(pkt + 4);
  h->ssrc = rd32(pkt + 8);
  size_t off = RTP_FIXED_HEADER + (size_t)h->csrc_count * 4;
  if (off > len)
    return -1;
  if ((pkt[0] & 0x10) && parse_extension(pkt, len, off, h) != 0)
    return -1;
  if (h->ext_offset)
    off = h->ext_offset + h->ext_len;
  size_t pad = 0;
  if (h->has_padding) {
    /* §5.1: the last octet counts the padding, itself included, so it is at least 1
     * and cannot reach back into the header. */
    pad = off < len ? pkt[len - 1] : 0;
    if (pad == 0 || pad > len - off)
      return -1;
  }
  h->header_len = h->payload_offset = off;
  h->payload_len = len - off - pad;
  return 0;
}

/* RFC 8285 §4.2: one-byte elements. ID 0 is a padding byte, ID 15 ends the walk. */
static int find_one_byte(const uint8_t *p, size_t n, uint8_t id, const uint8_t **data,
                         size_t *len) {
  size_t i = 0;
  while (i < n) {
    uint8_t elem_id = p[i] >> 4;
    size_t elem_len = (size_t)(p[i] & 0x0f) + 1;
    if (p[i] == 0) {
      i++;
      continue;
    }
    if (elem_id == 15 || n - i - 1 < elem_len)
      return -1;
    if (elem_id == id) {
      *data = p + i + 1;
      *len = elem_len;
      return 0;
    }
    i += 1 + elem_len;
  }
  return -1;
}

/* RFC 8285 §4.3: two-byte elements (ID, length); a zero byte is padding. */
static int find_two_byte(const uint8_t *p, size_t n, uint8_t id, const uint8_t **data,
                         size_t *len) {
  size_t i = 0;
  while (i < n) {
    if (p[i] == 0) {
      i++;
      continue;
    }
    if (n - i < 2 || n - i - 2 < p[i + 1])
      return -1;
    if (p[i] == id) {
      *data = p + i + 2;
      *len = p[i + 1];
      return 0;
    }
    i += 2 + (size_t)p[i + 1];
  }
  return -1;
}

int rtp_ext_find(const uint8_t *pkt, const rtp_header *h, uint8_t id,
                 const uint8_t **data, size_t *len) {
  if (!h->ext_offset || id == 0)
    return -1;
  const uint8_t *p = pkt + h->ext_offset;
  if (h->ext_profile == EXT_ONE_BYTE)
    return id < 15 ? find_one_byte(p, h->ext_len, id, data, len) : -1;
  if ((h->ext_profile & EXT_TWO_BYTE_MASK) == EXT_TWO_BYTE)
    return find_two_byte(p, h->ext_len, id, data, len);
  return -1;
}

int rtp_audio_level(const uint8_t *pkt, const rtp_header *h, uint8_t ext_id, int *level,
                    bool *voice) {
  const uint8_t *d;
  size_t n;
  if (rtp_ext_find(pkt, h, ext_id, &d, &n) != 0 || n < 1)
    return -1;
  *voice = d[0] & 0x80;
  *level = d[0] & 0x7f;
  return 0;
}

/* RFC 7741 §4.2: the payload descriptor, then the VP8 frame tag whose P bit (the
 * lowest bit of its first byte) is 0 on key frames. Only S=1, PID=0 starts a frame. */
int rtp_vp8_descriptor_len(const uint8_t *p, size_t n) {
  if (n < 1)
    return -1;
  size_t i = 1;
  if (p[0] & 0x80) { /* X: extension control byte I L T K */
    if (n < 2)
      return -1;
    uint8_t x = p[1];
    i = 2;
    if (x & 0x80) /* I: picture ID, 15 bits when its M bit is set */
      i += (i < n && (p[i] & 0x80)) ? 2 : 1;
    if (x & 0x40) /* L: TL0PICIDX */
      i++;
    if (x & 0x30) /* T or K: TID/Y/KEYIDX share one byte */
      i++;
  }
  return i < n ? (int)i : -1;
}

static bool vp8_keyframe(const uint8_t *p, size_t n) {
  if (n < 1 || !(p[0] & 0x10) || (p[0] & 0x07) != 0)
    return false;
  int i = rtp_vp8_descriptor_len(p, n);
  return i > 0 && (p[i] & 0x01) == 0;
}

/* RFC 9628 §4.2: descriptor byte I P L F B E V Z. A keyframe starts where B is set
 * and P clear, in the lowest spatial layer when layer indices are present. */
static bool vp9_keyframe(const uint8_t *p, size_t n) {
  if (n < 1 || !(p[0] & 0x08) || (p[0] & 0x40))
    return false;
  size_t i = 1;
  if (p[0] & 0x80) /* I: picture ID, 15 bits when its M bit is set */
    i += (i < n && (p[i] & 0x80)) ? 2 : 1;
  if (p[0] & 0x20) { /* L: TID U SID D, plus TL0PICIDX in non-flexible mode */
    if (i >= n || (p[i] & 0x0e) != 0)
      return false;
    i += (p[0] & 0x10) ? 1 : 2;
  }
  if (p[0] & 0x02) { /* V: scalability structure, §4.2.1 */
    if (i >= n)
      return false;
    uint8_t ss = p[i++];
    if (ss & 0x10) /* Y: width and height per spatial layer */
      i += 4 * ((size_t)(ss >> 5) + 1);
    if (ss & 0x08) { /* G: picture group description */
      if (i >= n)
        return false;
      size_t groups = p[i++];
      for (size_t g = 0; g < groups && i < n; g++)
        i += 1 + (size_t)((p[i] >> 2) & 0x03); /* TID U R, then R P_DIFFs */
      if (i > n)
        return false;
    }
  }
  return i < n;
}

static bool h264_is_key_nal(uint8_t type) { return type == 5 || type == 7; }

/* RFC 6184 §5.7.1: STAP-A is a NAL header, then units each with a 16-bit size. */
static bool h264_stap_a_keyframe(const uint8_t *p, size_t n) {
  size_t i = 1;
  while (n - i >= 2) {
    size_t size = rd16(p + i);
    i += 2;
    if (size == 0 || n - i < size)
      return false;
    if (h264_is_key_nal(p[i] & 0x1f))
      return true;
    i += size;
  }
  return false;
}

static bool h264_keyframe(const uint8_t *p, size_t n) {
  if (n < 1)
    return false;
  uint8_t type = p[0] & 0x1f;
  if (h264_is_key_nal(type))
    return true;
  if (type == 24)
    return h264_stap_a_keyframe(p, n);
  /* FU-A (§5.8): FU header S bit, and the fragmented NAL's type. */
  return type == 28 && n >= 2 && (p[1] & 0x80) && h264_is_key_nal(p[1] & 0x1f);
}

bool rtp_is_keyframe_start(const uint8_t *pkt, const rtp_header *h, rtp_codec codec) {
  const uint8_t *p = pkt + h->payload_offset;
  size_t n = h->payload_len;
  switch (codec) {
  case RTP_CODEC_VP8:
    return vp8_keyframe(p, n);
  case RTP_CODEC_VP9:
    return vp9_keyframe(p, n);
  case RTP_CODEC_H264:
    return h264_keyframe(p, n);
  default:
    return false;
  }
}

void rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc) { wr32(pkt + 8, ssrc); }
void rtp_set_seq(uint8_t *pkt, uint16_t seq) { wr16(pkt + 2, seq); }
void rtp_set_timestamp(uint8_t *pkt, uint32_t ts) { wr32(pkt + 4, ts); }
void rtp_set_payload_type(uint8_t *pkt, uint8_t pt) {
  pkt[1] = (uint8_t)((pkt[1] & 0x80) | (pt & 0x7f));
}

size_t rtp_write_header(uint8_t *out, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                        uint32_t ssrc) {
  out[0] = 0x80;
  out[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
  wr16(out + 2, seq);
  wr32(out + 4, ts);
  wr32(out + 8, ssrc);
  return RTP_FIXED_HEADER;
}

size_t rtp_strip_extensions(uint8_t *pkt, size_t len, const rtp_header *h) {
  if (!h->ext_profile)
    return len;
  size_t block_start = 12 + 4 * (size_t)h->csrc_count; /* the extension header */
  size_t payload = h->header_len;
  memmove(pkt + block_start, pkt + payload, len - payload);
  pkt[0] &= (uint8_t)~0x10;
  return len - (payload - block_start);
}
