/* rtp_renumber — one outgoing stream's numbers across switches of source: sequence
 * numbers, timestamps and, for VP8 and VP9, picture ids and TL0PICIDX run on, so a
 * switch of simulcast layer or of speaker reads to the receiver as one stream. */
#ifndef PARLEY_RTP_RENUMBER_H
#define PARLEY_RTP_RENUMBER_H

#include "rtc/rtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The picture numbering of a VP8 (RFC 7741 §4.2) or VP9 (RFC 9628 §4.2) payload
 * descriptor, and where in the payload it lies. */
typedef struct {
  bool has_pic, pic_15bit; /* a picture id, 15 or 7 bits */
  bool has_tl0;            /* a TL0PICIDX */
  uint16_t pic;
  uint8_t tl0;
  uint8_t pic_at, tl0_at; /* their payload offsets */
} rtp_vpx_ids;

/* Reads ids from a payload of codec (none for Opus and H.264). 0, or -1 when the
 * payload ends inside the descriptor (then ids holds none). */
int rtp_vpx_ids_read(const uint8_t *payload, size_t len, rtp_codec codec,
                     rtp_vpx_ids *ids);
/* Adds the deltas to the ids read from this payload, in place, modulo their widths. */
void rtp_vpx_ids_shift(uint8_t *payload, const rtp_vpx_ids *ids, uint16_t pic_delta,
                       uint8_t tl0_delta);

/* One outgoing stream's state. started is cleared at a switch of source: the next
 * packet then starts the new source's numbering one after the newest sent. */
typedef struct {
  bool started;
  uint16_t seq_delta, last_seq;
  uint32_t ts_delta, last_ts;
  uint64_t last_ms; /* when last_ts went out (0: never) */
  uint16_t pic_delta, last_pic;
  uint8_t tl0_delta, last_tl0;
} rtp_renumber;

/* The numbers one packet goes out with: its seq and ts, and the deltas its ids take. */
typedef struct {
  uint16_t seq;
  uint32_t ts;
  uint16_t pic_delta;
  uint8_t tl0_delta;
} rtp_renumbered;

/* Random starting numbers (RFC 3550 §5.1), not started. */
void rtp_renumber_init(rtp_renumber *r);
/* The numbers of the next packet h (with ids, from rtp_vpx_ids_read) of a stream whose
 * clock runs at clock_hz; now is the loop's ms clock. A switch carries the timestamp on
 * by the wall time since the last packet (so the receiver's jitter buffer sees frames
 * arrive on time), the picture id and TL0PICIDX by one. */
rtp_renumbered rtp_renumber_next(rtp_renumber *r, const rtp_header *h,
                                 const rtp_vpx_ids *ids, uint32_t clock_hz, uint64_t now);

#endif
