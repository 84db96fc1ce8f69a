/* depacketizer — one received RTP stream back into codec frames: a small sequence-number
 * reorder window, then Opus, VP8 (RFC 7741), VP9 (RFC 9628) or H.264 (RFC 6184) payloads.
 */
#ifndef PARLEY_DEPACKETIZER_H
#define PARLEY_DEPACKETIZER_H

#include "rtc/rtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  const uint8_t *data; /* Opus packet, VP8/VP9 frame, or H.264 access unit as 4-byte
                          length-prefixed NAL units (Matroska's AVC layout) */
  size_t len;
  uint32_t rtp_ts;
  bool keyframe;     /* always true for audio */
  int width, height; /* of a video keyframe, 0 if unknown */
} depkt_frame;

/* Called for every complete, decodable frame, in sequence order; data is valid only
 * during the call. Video frames start with a keyframe and follow only unbroken chains. */
typedef void (*depkt_frame_fn)(void *ud, const depkt_frame *frame);

typedef struct {
  uint64_t packets, malformed, late, lost; /* late: duplicates and packets behind */
  uint64_t frames, frames_dropped;         /* dropped: broken, or while awaiting a key */
} depkt_stats;

typedef struct depacketizer depacketizer;

depacketizer *depacketizer_new(rtp_codec codec, depkt_frame_fn on_frame, void *ud);
void depacketizer_free(depacketizer *d);
/* One RTP packet (header included), arriving at now_ms (any monotonic clock). */
void depacketizer_push(depacketizer *d, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Releases everything held in the reorder window (skipping holes): at the end. */
void depacketizer_flush(depacketizer *d);
/* True while video waits for a keyframe (at the start, and after a loss). */
bool depacketizer_awaiting_keyframe(const depacketizer *d);
/* True once after each loss that broke the video chain: time to ask for a keyframe. */
bool depacketizer_take_keyframe_request(depacketizer *d);
/* The latest H.264 SPS and PPS seen (NAL units, header included); len 0 if none. */
const uint8_t *depacketizer_h264_sps(const depacketizer *d, size_t *len);
const uint8_t *depacketizer_h264_pps(const depacketizer *d, size_t *len);
depkt_stats depacketizer_stats(const depacketizer *d);

#endif
