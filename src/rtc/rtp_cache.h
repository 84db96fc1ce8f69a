/* rtp_cache — the last packets a stream received, by sequence number, shared by every
 * receiver it is forwarded to so their NACKs (RFC 4585) can be answered; a byte ring
 * sized to the stream's own rate. */
#ifndef PARLEY_RTP_CACHE_H
#define PARLEY_RTP_CACHE_H

#include "rtc/rtp.h"

#define RTP_CACHE_SLOTS 512    /* index entries at most: ~2 s of video at 250 packets/s */
#define RTP_CACHE_MIN_SLOTS 32 /* to start with: ~1 s of a small simulcast layer */
#define RTP_CACHE_MIN_BYTES (32 * 1024)   /* ring to start with: ~1.7 s at 150 kbit/s */
#define RTP_CACHE_MAX_BYTES (1024 * 1024) /* ring at most: ~1 s at 8 Mbit/s */
#define RTP_CACHE_SEGMENTS 32             /* the ring's age is tracked per 1/32nd of it */
/* The NACK horizon: a packet kept less than keep_ms ago is still worth a NACK's answer,
 * so the index and the ring grow (up to their maximum) rather than overwrite it.
 * keep_ms is 4 x the largest NACK delay its receivers showed in the last
 * RTP_CACHE_DELAY_WINDOW_MS, between RTP_CACHE_KEEP_MIN_MS and RTP_CACHE_KEEP_MS; the
 * minimum until a NACK comes. A NACK delay is the time from a packet's sending to the
 * first NACK for it: the receiver's RTT plus its wait for the next packet (RFC 3550's
 * LSR/DLSR cannot give the RTT here: the router sends receivers no SR). A packet is
 * resent at most 3 times (session.c), a receiver repeating its NACK about every RTT
 * (Chromium's NackRequester), so the third answer goes out about 3 RTTs after the
 * first loss; 4 NACK delays cover it, and a retransmission later than that finds the
 * receiver's jitter buffer past the hole. A fixed 1 s kept 128 KiB per 1 Mbit/s
 * publisher, half of its memory (issue 13); 250 ms keeps 32 KiB (the ring's first size)
 * and answers every NACK of a receiver whose NACK delay is under ~60 ms. The cost: the
 * first loss of a receiver farther away than the horizon is repaired by a keyframe
 * instead (its NACK finds the packet gone), after which the horizon covers it. */
#define RTP_CACHE_KEEP_MS 1000
#define RTP_CACHE_KEEP_MIN_MS 250
#define RTP_CACHE_DELAY_WINDOW_MS 5000
/* Shrinking (hysteresis): a ring grown for a burst is halved (not below
 * RTP_CACHE_MIN_BYTES) once every write for RTP_CACHE_SHRINK_AFTER_MS has overwritten
 * bytes older than RTP_CACHE_SHRINK_FACTOR x keep_ms, i.e. it held 4 horizons or more
 * all that time; half still holds 2, so no NACK within the horizon loses its answer,
 * and growth (which starts only when a write would overwrite a packet younger than one
 * horizon) does not follow at once. Again after as long, down to what the rate needs. */
#define RTP_CACHE_SHRINK_AFTER_MS 10000
#define RTP_CACHE_SHRINK_FACTOR 4

typedef struct {
  uint16_t seq;
  uint16_t len;     /* 0 = empty */
  uint64_t kept_ms; /* when it was received and kept */
  uint64_t pos;     /* where its bytes start in the ring's running byte count */
} rtp_cache_entry;

typedef struct {
  rtp_cache_entry *index; /* n_slots of them, a power of two, by seq modulo n_slots */
  size_t n_slots;
  /* The packets' bytes, one after another: a packet at running position pos lives at
   * ring[pos % cap] (never split over the end) until the writes pass pos + cap. */
  uint8_t *ring;
  size_t cap;
  uint64_t head;                       /* running position of the next write */
  uint64_t seg_ms[RTP_CACHE_SEGMENTS]; /* newest kept_ms in each 1/32nd; ~0 = none */
  unsigned cur_seg;                    /* the segment the last write ended in */
  int holders;            /* its stream, and each rtp_sent entry that points into it */
  uint32_t keep_ms;       /* the NACK horizon (above) */
  uint64_t keep_noted_ms; /* when the NACK delay that set it was noted */
  uint64_t roomy_ms;      /* since when every overwrite found old bytes (0: not) */
  uint32_t shrinks;       /* times the ring was halved (for tests and figures) */
} rtp_cache;
/* Reference counted, on one media loop only (no atomics): new starts with one holder;
 * the last release frees it. A stream's cache outlives the stream while receivers'
 * rtp_sent entries still point into it. */
rtp_cache *rtp_cache_new(void);
void rtp_cache_hold(rtp_cache *c);
void rtp_cache_release(rtp_cache *c);
/* Stores a plain (unprotected) RTP packet, as received, under its sequence number. The
 * ring grows with the stream's byte rate so that it holds keep_ms of it: at 1 Mbit/s 32
 * KiB for 250 ms, ~128 KiB for 1 s; the index with its packet rate. */
void rtp_cache_put(rtp_cache *c, const uint8_t *pkt, size_t len, uint16_t seq,
                   uint64_t now_ms);
/* A receiver's first NACK for a packet came delay_ms after the packet was sent to it: the
 * horizon becomes 4 x the largest such delay of the last RTP_CACHE_DELAY_WINDOW_MS,
 * within its bounds. The ring grows to a longer horizon as packets arrive, and shrinks
 * (slowly, above) when it holds far more than the horizon. */
void rtp_cache_note_nack_delay(rtp_cache *c, uint64_t delay_ms, uint64_t now_ms);
/* The packet with seq if still cached (not overwritten by a newer one): its bytes, with
 * *len and *kept_ms set; else NULL. Valid until the next put. */
const uint8_t *rtp_cache_get(const rtp_cache *c, uint16_t seq, size_t *len,
                             uint64_t *kept_ms);

#endif
