/* rtp_sent — what one outgoing stream sent, by its own sequence number: which packet of
 * which source's rtp_cache, and the numbers it carried; NACKs are answered from it. */
#ifndef PARLEY_RTP_SENT_H
#define PARLEY_RTP_SENT_H

#include "rtc/rtp_cache.h"
#include "rtc/rtp_renumber.h"

#define RTP_SENT_SLOTS RTP_CACHE_SLOTS /* at most */
#define RTP_SENT_MIN_SLOTS 32          /* to start with; doubles like the cache's index */

typedef struct {
  rtp_cache *source; /* held while this entry points into it */
  uint16_t source_seq, seq;
  uint32_t timestamp;
  uint32_t sent_ms;   /* a loop's ms clock, modulo 2^32 (49 days; ages are seconds) */
  uint16_t pic_delta; /* what its VP8/VP9 picture id and TL0PICIDX were shifted by */
  uint8_t tl0_delta;
  uint8_t resends; /* answers to NACKs for it so far */
} rtp_sent_entry;

/* How long ago e was sent. */
static inline uint32_t rtp_sent_age(const rtp_sent_entry *e, uint64_t now_ms) {
  return (uint32_t)now_ms - e->sent_ms;
}

/* 24 bytes a packet of the last RTP_CACHE_KEEP_MS (3 KiB at 100 packets/s, 12 KiB at
 * most), where a copy of each packet per receiver took 770 KiB: the bytes live once, in
 * the source's cache. */
typedef struct {
  rtp_sent_entry *entries; /* n_slots, a power of two, by seq modulo n_slots */
  size_t n_slots;
} rtp_sent;

rtp_sent *rtp_sent_new(void);
/* Releases every source still pointed to. */
void rtp_sent_free(rtp_sent *s);
/* Doubles the slots (up to RTP_SENT_SLOTS) rather than overwrite an entry sent less
 * than RTP_CACHE_KEEP_MS ago. */
void rtp_sent_note(rtp_sent *s, rtp_cache *source, uint16_t source_seq,
                   const rtp_renumbered *as, uint64_t now_ms);
/* The entry for seq if it is still the newest one in its slot, else NULL. */
const rtp_sent_entry *rtp_sent_find(const rtp_sent *s, uint16_t seq);
/* The entry for seq if a NACK may have it resent now: sent at most max_age_ms ago and
 * resent fewer than max_resends times, this resend counted. NULL otherwise. */
const rtp_sent_entry *rtp_sent_take_resend(rtp_sent *s, uint16_t seq, uint64_t now_ms,
                                           uint64_t max_age_ms, unsigned max_resends);

#endif
