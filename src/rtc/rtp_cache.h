/* rtp_cache — the last packets a stream received, by sequence number, shared by every
 * receiver it is forwarded to so their NACKs (RFC 4585) can be answered; fixed slots. */
#ifndef PARLEY_RTP_CACHE_H
#define PARLEY_RTP_CACHE_H

#include "rtc/rtp.h"

#define RTP_CACHE_SLOTS 512    /* at most: ~2 s of video at 250 packets/s */
#define RTP_CACHE_MIN_SLOTS 32 /* to start with: ~1 s of a small simulcast layer */
/* A packet kept less than this ago is still worth a NACK's answer: the cache doubles
 * (up to RTP_CACHE_SLOTS) rather than overwrite it. */
#define RTP_CACHE_KEEP_MS 1000

typedef struct {
  uint16_t seq;
  uint16_t len;     /* 0 = empty */
  uint64_t kept_ms; /* when it was received and kept */
  uint8_t data[RTP_MAX_PACKET];
} rtp_cache_slot;

typedef struct {
  rtp_cache_slot *slots; /* n_slots of them, a power of two */
  size_t n_slots;
  int holders; /* its stream, and each rtp_sent entry that points into it */
} rtp_cache;
/* Reference counted, on one media loop only (no atomics): new starts with one holder;
 * the last release frees it. A stream's cache outlives the stream while receivers'
 * rtp_sent entries still point into it. */
rtp_cache *rtp_cache_new(void);
void rtp_cache_hold(rtp_cache *c);
void rtp_cache_release(rtp_cache *c);
/* Stores a plain (unprotected) RTP packet, as received, under its sequence number. The
 * cache grows with the stream's packet rate: a 150 kbit/s layer keeps 32 slots (48 KiB),
 * a 2 Mbit/s camera 256 or 512. */
void rtp_cache_put(rtp_cache *c, const uint8_t *pkt, size_t len, uint16_t seq,
                   uint64_t now_ms);
/* The packet with seq if still cached (not overwritten by a newer one), else NULL. */
const rtp_cache_slot *rtp_cache_get(const rtp_cache *c, uint16_t seq);

#endif
