/* rtp — RTP packets (RFC 3550) as the media path sees them: parse a header with its
 * extensions (RFC 8285), read audio levels and keyframes, and rewrite fields in place. */
#ifndef PARLEY_RTP_H
#define PARLEY_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_MAX_PACKET 1500

typedef struct {
  bool marker, has_padding;
  uint8_t payload_type;
  uint16_t seq;
  uint32_t timestamp, ssrc;
  uint8_t csrc_count;
  size_t header_len;     /* fixed header + CSRCs + extension block */
  size_t payload_offset; /* == header_len */
  size_t payload_len;    /* without padding */
  uint16_t ext_profile;  /* 0xBEDE (one-byte) or 0x100X (two-byte); 0 if none */
  size_t ext_offset;     /* offset of the extension elements, 0 if none */
  size_t ext_len;        /* bytes of extension elements */
} rtp_header;

/* RFC 7983 demultiplexing on a shared port. */
bool rtp_looks_like_rtp(const uint8_t *pkt, size_t len);  /* RTP, not RTCP */
bool rtp_looks_like_rtcp(const uint8_t *pkt, size_t len); /* payload type 192..223 */

/* Parses; 0, or -1 if malformed (version, lengths, padding, extension bounds). */
int rtp_parse(const uint8_t *pkt, size_t len, rtp_header *h);
/* Finds extension element id; returns 0 and its data, or -1 if absent. */
int rtp_ext_find(const uint8_t *pkt, const rtp_header *h, uint8_t id,
                 const uint8_t **data, size_t *len);
/* RFC 6464 ssrc-audio-level: level in -dBov (0 loudest .. 127 silence), voice flag. */
int rtp_audio_level(const uint8_t *pkt, const rtp_header *h, uint8_t ext_id, int *level,
                    bool *voice);

typedef enum { RTP_CODEC_OPUS, RTP_CODEC_VP8, RTP_CODEC_VP9, RTP_CODEC_H264 } rtp_codec;
/* RFC 7741 §4.2: the VP8 payload descriptor's length (where the VP8 frame data starts),
 * or -1 when the payload ends inside it. */
int rtp_vp8_descriptor_len(const uint8_t *payload, size_t len);
/* True if the packet starts a keyframe (VP8 key frame, VP9 non-inter-predicted start
 * of a frame, H.264 IDR or SPS, including inside STAP-A and FU-A start). */
bool rtp_is_keyframe_start(const uint8_t *pkt, const rtp_header *h, rtp_codec codec);

void rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc);
void rtp_set_seq(uint8_t *pkt, uint16_t seq);
void rtp_set_timestamp(uint8_t *pkt, uint32_t ts);
void rtp_set_payload_type(uint8_t *pkt, uint8_t pt);

/* Removes the header extension block in place (clearing the X bit); returns the new
 * length. Forwarding between peer connections needs it: extension ids are per
 * connection, and a receiver would read the sender's ids with its own meanings. */
size_t rtp_strip_extensions(uint8_t *pkt, size_t len, const rtp_header *h);

/* Writes a 12-byte header (no CSRC, no extension); returns 12. */
size_t rtp_write_header(uint8_t *out, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                        uint32_t ssrc);

/* Sequence arithmetic over wrap-around (RFC 3550 A.1). */
static inline bool rtp_seq_newer(uint16_t a, uint16_t b) {
  return a != b && (uint16_t)(a - b) < 0x8000;
}

#endif
