/* rtp_cache — the last packets sent on a stream, by sequence number, so NACKs can be
 * answered (RFC 4585); fixed slots allocated once, nothing allocated per packet. */
#ifndef PARLEY_RTP_CACHE_H
#define PARLEY_RTP_CACHE_H

#include "rtc/rtp.h"

#define RTP_CACHE_SLOTS 512 /* ~2 s of video at 250 packets/s */

typedef struct {
  uint16_t seq;
  uint16_t len; /* 0 = empty */
  uint64_t sent_ms;
  uint8_t data[RTP_MAX_PACKET];
} rtp_cache_slot;

typedef struct {
  rtp_cache_slot slots[RTP_CACHE_SLOTS];
} rtp_cache;

void rtp_cache_init(rtp_cache *c);
/* Stores a plain (unprotected) RTP packet under its sequence number. */
void rtp_cache_put(rtp_cache *c, const uint8_t *pkt, size_t len, uint16_t seq,
                   uint64_t now_ms);
/* The packet with seq if still cached (not overwritten by a newer one), else NULL. */
const rtp_cache_slot *rtp_cache_get(const rtp_cache *c, uint16_t seq);

#endif
