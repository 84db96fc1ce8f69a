/* rtp_cache — a ring of packet slots indexed by sequence number modulo the slot count;
 * a put overwrites whatever older packet shared the slot, a get checks the seq. */
#include "rtc/rtp_cache.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* Only the headers are touched: the data is written before a slot is ever read. */
static rtp_cache_slot *new_slots(size_t n) {
  rtp_cache_slot *slots = xmalloc(n * sizeof *slots);
  for (size_t i = 0; i < n; i++) {
    slots[i].seq = 0;
    slots[i].len = 0;
    slots[i].kept_ms = 0;
  }
  return slots;
}

rtp_cache *rtp_cache_new(void) {
  rtp_cache *c = xmalloc(sizeof *c);
  c->n_slots = RTP_CACHE_MIN_SLOTS;
  c->slots = new_slots(c->n_slots);
  c->holders = 1;
  return c;
}

/* Twice the slots; each kept packet moves to seq modulo the new count (two that did not
 * share a slot before cannot share one now). */
static void grow(rtp_cache *c) {
  size_t n = c->n_slots * 2;
  rtp_cache_slot *slots = new_slots(n);
  for (size_t i = 0; i < c->n_slots; i++) {
    const rtp_cache_slot *old = &c->slots[i];
    if (!old->len)
      continue;
    rtp_cache_slot *to = &slots[old->seq % n];
    to->seq = old->seq;
    to->len = old->len;
    to->kept_ms = old->kept_ms;
    memcpy(to->data, old->data, old->len);
  }
  free(c->slots);
  c->slots = slots;
  c->n_slots = n;
}

void rtp_cache_hold(rtp_cache *c) { c->holders++; }

void rtp_cache_release(rtp_cache *c) {
  if (c && --c->holders == 0) {
    free(c->slots);
    free(c);
  }
}

void rtp_cache_put(rtp_cache *c, const uint8_t *pkt, size_t len, uint16_t seq,
                   uint64_t now_ms) {
  rtp_cache_slot *s = &c->slots[seq % c->n_slots];
  while (s->len && s->seq != seq && now_ms - s->kept_ms < RTP_CACHE_KEEP_MS &&
         c->n_slots < RTP_CACHE_SLOTS) {
    grow(c);
    s = &c->slots[seq % c->n_slots];
  }
  s->seq = seq;
  s->kept_ms = now_ms;
  /* Too long to keep: the slot is emptied all the same, so the older packet it held
   * cannot be mistaken for this one later. */
  if (len == 0 || len > RTP_MAX_PACKET) {
    s->len = 0;
    return;
  }
  memcpy(s->data, pkt, len);
  s->len = (uint16_t)len;
}

const rtp_cache_slot *rtp_cache_get(const rtp_cache *c, uint16_t seq) {
  const rtp_cache_slot *s = &c->slots[seq % c->n_slots];
  return s->len > 0 && s->seq == seq ? s : NULL;
}
