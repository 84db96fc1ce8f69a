/* rtp_sent — a ring of what a stream sent, indexed by sequence number modulo the slot
 * count, which grows with the packet rate; each entry holds the source cache it points
 * into. */
#include "rtc/rtp_sent.h"

#include "core/mem.h"

#include <stdlib.h>

rtp_sent *rtp_sent_new(void) {
  rtp_sent *s = xmalloc(sizeof *s);
  s->n_slots = RTP_SENT_MIN_SLOTS;
  s->entries = xcalloc(s->n_slots, sizeof *s->entries);
  return s;
}

void rtp_sent_free(rtp_sent *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n_slots; i++)
    rtp_cache_release(s->entries[i].source);
  free(s->entries);
  free(s);
}

/* Twice the slots; every entry (with the hold it has) moves to seq modulo the new count,
 * where no other can be. */
static void grow(rtp_sent *s) {
  size_t n = s->n_slots * 2;
  rtp_sent_entry *entries = xcalloc(n, sizeof *entries);
  for (size_t i = 0; i < s->n_slots; i++)
    if (s->entries[i].source)
      entries[s->entries[i].seq % n] = s->entries[i];
  free(s->entries);
  s->entries = entries;
  s->n_slots = n;
}

void rtp_sent_note(rtp_sent *s, rtp_cache *source, uint16_t source_seq,
                   const rtp_renumbered *as, uint64_t now_ms) {
  uint16_t seq = as->seq;
  rtp_sent_entry *e = &s->entries[seq % s->n_slots];
  while (e->source && e->seq != seq && rtp_sent_age(e, now_ms) < RTP_CACHE_KEEP_MS &&
         s->n_slots < RTP_SENT_SLOTS) {
    grow(s);
    e = &s->entries[seq % s->n_slots];
  }
  /* Consecutive packets come from one source: holders change only at a switch. */
  if (e->source != source) {
    rtp_cache_release(e->source);
    rtp_cache_hold(source);
    e->source = source;
  }
  e->source_seq = source_seq;
  e->seq = seq;
  e->timestamp = as->ts;
  e->sent_ms = (uint32_t)now_ms;
  e->pic_delta = as->pic_delta;
  e->tl0_delta = as->tl0_delta;
  e->resends = 0;
}

const rtp_sent_entry *rtp_sent_find(const rtp_sent *s, uint16_t seq) {
  const rtp_sent_entry *e = &s->entries[seq % s->n_slots];
  return e->source && e->seq == seq ? e : NULL;
}

const rtp_sent_entry *rtp_sent_take_resend(rtp_sent *s, uint16_t seq, uint64_t now_ms,
                                           uint64_t max_age_ms, unsigned max_resends) {
  rtp_sent_entry *e = &s->entries[seq % s->n_slots];
  if (!e->source || e->seq != seq || rtp_sent_age(e, now_ms) > max_age_ms ||
      e->resends >= max_resends)
    return NULL;
  e->resends++;
  return e;
}
