/* rtp_cache — a ring of packet slots indexed by sequence number modulo the slot count;
 * a put overwrites whatever older packet shared the slot, a get checks the seq. */
#include "rtc/rtp_cache.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

/* Only the headers are touched: the data is written before a slot is ever read. */
void rtp_cache_init(rtp_cache *c) {
  for (size_t i = 0; i < RTP_CACHE_SLOTS; i++) {
    c->slots[i].seq = 0;
    c->slots[i].len = 0;
    c->slots[i].kept_ms = 0;
  }
}

rtp_cache *rtp_cache_new(void) {
  rtp_cache *c = xmalloc(sizeof *c);
  rtp_cache_init(c);
  c->holders = 1;
  return c;
}

void rtp_cache_hold(rtp_cache *c) { c->holders++; }

void rtp_cache_release(rtp_cache *c) {
  if (c && --c->holders == 0)
    free(c);
}

void rtp_cache_put(rtp_cache *c, const uint8_t *pkt, size_t len, uint16_t seq,
                   uint64_t now_ms) {
  rtp_cache_slot *s = &c->slots[seq % RTP_CACHE_SLOTS];
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
  const rtp_cache_slot *s = &c->slots[seq % RTP_CACHE_SLOTS];
  return s->len > 0 && s->seq == seq ? s : NULL;
}
