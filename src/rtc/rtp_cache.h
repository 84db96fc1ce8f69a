/* rtp_cache — the last packets a stream received, by sequence number, shared by every
 * receiver it is forwarded to so their NACKs (RFC 4585) can be answered; fixed slots. */
#ifndef PARLEY_RTP_CACHE_H
#define PARLEY_RTP_CACHE_H

#include "rtc/rtp.h"

#define RTP_CACHE_SLOTS 512 /* ~2 s of video at 250 packets/s */

typedef struct {
  uint16_t seq;
  uint16_t len;     /* 0 = empty */
  uint64_t kept_ms; /* when it was received and kept */
  uint8_t data[RTP_MAX_PACKET];
} rtp_cache_slot;

typedef struct {
  rtp_cache_slot slots[RTP_CACHE_SLOTS];
  int holders; /* its stream, and each rtp_sent entry that points into it */
} rtp_cache;

void rtp_cache_init(rtp_cache *c);
/* Reference counted, on one media loop only (no atomics): new starts with one holder;
 * the last release frees it. A stream's cache outlives the stream while receivers'
 * rtp_sent entries still point into it. */
rtp_cache *rtp_cache_new(void);
void rtp_cache_hold(rtp_cache *c);
void rtp_cache_release(rtp_cache *c);
/* Stores a plain (unprotected) RTP packet, as received, under its sequence number. */
void rtp_cache_put(rtp_cache *c, const uint8_t *pkt, size_t len, uint16_t seq,
                   uint64_t now_ms);
/* The packet with seq if still cached (not overwritten by a newer one), else NULL. */
const rtp_cache_slot *rtp_cache_get(const rtp_cache *c, uint16_t seq);

#endif
