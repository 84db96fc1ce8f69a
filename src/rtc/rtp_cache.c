/* rtp_cache — an index of entries by sequence number modulo its size, pointing into a
 * ring of the packets' bytes laid one after another; both grow while a put would
 * overwrite a packet younger than the NACK horizon (keep_ms, from NACK delays), and the
 * ring shrinks back when it has held several horizons for a while (the index stays).
 */
#include "rtc/rtp_cache.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define SEG_NONE UINT64_MAX

static rtp_cache_entry *new_index(size_t n) {
  rtp_cache_entry *index = xmalloc(n * sizeof *index);
  for (size_t i = 0; i < n; i++)
    index[i] = (rtp_cache_entry){0};
  return index;
}

rtp_cache *rtp_cache_new(void) {
  rtp_cache *c = xmalloc(sizeof *c);
  c->n_slots = RTP_CACHE_MIN_SLOTS;
  c->index = new_index(c->n_slots);
  c->cap = RTP_CACHE_MIN_BYTES;
  c->ring = xmalloc(c->cap); /* untouched (not resident) until written */
  c->head = 0;
  for (size_t i = 0; i < RTP_CACHE_SEGMENTS; i++)
    c->seg_ms[i] = SEG_NONE;
  c->cur_seg = 0;
  c->holders = 1;
  c->keep_ms = RTP_CACHE_KEEP_MIN_MS;
  c->keep_noted_ms = 0;
  c->roomy_ms = 0;
  c->shrinks = 0;
  return c;
}

void rtp_cache_hold(rtp_cache *c) { c->holders++; }

void rtp_cache_note_nack_delay(rtp_cache *c, uint64_t delay_ms, uint64_t now_ms) {
  uint32_t keep =
      delay_ms > RTP_CACHE_KEEP_MS / 4 ? RTP_CACHE_KEEP_MS : 4 * (uint32_t)delay_ms;
  if (keep < RTP_CACHE_KEEP_MIN_MS)
    keep = RTP_CACHE_KEEP_MIN_MS;
  if (keep >= c->keep_ms || now_ms - c->keep_noted_ms > RTP_CACHE_DELAY_WINDOW_MS) {
    c->keep_ms = keep;
    c->keep_noted_ms = now_ms;
  }
}

void rtp_cache_release(rtp_cache *c) {
  if (c && --c->holders == 0) {
    free(c->index);
    free(c->ring);
    free(c);
  }
}

/* Its bytes are still in the ring: no write has reached pos + cap yet. */
static bool intact(const rtp_cache *c, const rtp_cache_entry *e) {
  return e->len && c->head - e->pos <= c->cap;
}

static unsigned seg_of(size_t cap, size_t off) {
  return (unsigned)(off * RTP_CACHE_SEGMENTS / cap);
}

/* Twice the entries; each intact one moves to seq modulo the new count (two that did not
 * share a slot before cannot share one now). */
static void grow_index(rtp_cache *c) {
  size_t n = c->n_slots * 2;
  rtp_cache_entry *index = new_index(n);
  for (size_t i = 0; i < c->n_slots; i++)
    if (intact(c, &c->index[i]))
      index[c->index[i].seq % n] = c->index[i];
  free(c->index);
  c->index = index;
  c->n_slots = n;
}

/* The ring at n bytes (bigger or smaller). Packets keep their running positions, so
 * they move to pos % n; those a write has passed (no longer intact at n) go, and one
 * that would be split over the new end is dropped (one packet at most). */
static void relayout(rtp_cache *c, size_t n) {
  uint8_t *ring = xmalloc(n);
  for (size_t i = 0; i < RTP_CACHE_SEGMENTS; i++)
    c->seg_ms[i] = SEG_NONE;
  for (size_t i = 0; i < c->n_slots; i++) {
    rtp_cache_entry *e = &c->index[i];
    if (!intact(c, e) || c->head - e->pos > n) {
      e->len = 0;
      continue;
    }
    size_t to = e->pos % n;
    if (to + e->len > n) {
      e->len = 0;
      continue;
    }
    memcpy(ring + to, c->ring + e->pos % c->cap, e->len);
    for (unsigned s = seg_of(n, to); s <= seg_of(n, to + e->len - 1); s++)
      if (c->seg_ms[s] == SEG_NONE || c->seg_ms[s] < e->kept_ms)
        c->seg_ms[s] = e->kept_ms;
  }
  free(c->ring);
  c->ring = ring;
  c->cap = n;
  c->cur_seg = c->head ? seg_of(n, (c->head - 1) % n) : 0;
  c->roomy_ms = 0;
}

/* A bigger ring: sized from the rate seen (the ring's bytes less a segment written in
 * age_ms) to hold keep_ms with an eighth to spare, but 1.125 to 2 times the
 * old one. */
static void grow_ring(rtp_cache *c, uint64_t age_ms) {
  size_t seg = c->cap / RTP_CACHE_SEGMENTS;
  uint64_t need = (uint64_t)(c->cap - seg) * c->keep_ms / (age_ms ? age_ms : 1);
  need = need * 9 / 8 + 2 * seg;
  size_t lo = c->cap + c->cap / 8, hi = c->cap * 2;
  size_t n = need < lo ? lo : need > hi ? hi : (size_t)need;
  n = (n + 1023) / 1024 * 1024;
  if (n > RTP_CACHE_MAX_BYTES)
    n = RTP_CACHE_MAX_BYTES;
  relayout(c, n);
}

/* An overwrite of bytes kept at oldest_ms: a ring that has overwritten only bytes older
 * than RTP_CACHE_SHRINK_FACTOR horizons for RTP_CACHE_SHRINK_AFTER_MS is halved. */
static void note_overwrite(rtp_cache *c, uint64_t oldest_ms, uint64_t now) {
  if (now - oldest_ms < (uint64_t)RTP_CACHE_SHRINK_FACTOR * c->keep_ms) {
    c->roomy_ms = 0;
    return;
  }
  if (!c->roomy_ms) {
    c->roomy_ms = now ? now : 1;
    return;
  }
  if (now - c->roomy_ms < RTP_CACHE_SHRINK_AFTER_MS || c->cap <= RTP_CACHE_MIN_BYTES)
    return;
  size_t n = c->cap / 2 / 1024 * 1024;
  relayout(c, n < RTP_CACHE_MIN_BYTES ? RTP_CACHE_MIN_BYTES : n);
  c->shrinks++;
}

/* Where len bytes go: at the head, or at the ring's start if they would be split over
 * its end. Entering a segment whose newest packet is younger than keep_ms
 * grows the ring first (below its maximum). */
static uint64_t reserve(rtp_cache *c, size_t len, uint64_t now) {
  for (;;) {
    uint64_t pos = c->head;
    size_t off = pos % c->cap;
    if (off + len > c->cap) {
      pos += c->cap - off;
      off = 0;
    }
    unsigned first = seg_of(c->cap, off), last = seg_of(c->cap, off + len - 1);
    uint64_t young = SEG_NONE, newest = SEG_NONE;
    for (unsigned s = first; s <= last; s++) {
      if (s == c->cur_seg || c->seg_ms[s] == SEG_NONE)
        continue;
      if (now - c->seg_ms[s] < c->keep_ms)
        young = c->seg_ms[s];
      if (newest == SEG_NONE || c->seg_ms[s] > newest)
        newest = c->seg_ms[s];
    }
    if (young != SEG_NONE && c->cap < RTP_CACHE_MAX_BYTES) {
      grow_ring(c, now - young);
      continue;
    }
    if (newest != SEG_NONE) { /* entering a segment that holds older bytes */
      size_t cap = c->cap;
      note_overwrite(c, newest, now);
      if (c->cap != cap)
        continue; /* halved: place it in the new ring */
    }
    for (unsigned s = first; s <= last; s++)
      c->seg_ms[s] = now;
    c->cur_seg = last;
    c->head = pos + len;
    return pos;
  }
}

void rtp_cache_put(rtp_cache *c, const uint8_t *pkt, size_t len, uint16_t seq,
                   uint64_t now_ms) {
  rtp_cache_entry *e = &c->index[seq % c->n_slots];
  while (intact(c, e) && e->seq != seq && now_ms - e->kept_ms < c->keep_ms &&
         c->n_slots < RTP_CACHE_SLOTS) {
    grow_index(c);
    e = &c->index[seq % c->n_slots];
  }
  /* Too long to keep: the entry is emptied all the same, so the older packet it held
   * cannot be mistaken for this one later. */
  if (len == 0 || len > RTP_MAX_PACKET) {
    *e = (rtp_cache_entry){.seq = seq, .kept_ms = now_ms};
    return;
  }
  uint64_t pos = reserve(c, len, now_ms); /* may grow the ring: e stays where it is */
  memcpy(c->ring + pos % c->cap, pkt, len);
  *e = (rtp_cache_entry){.seq = seq, .len = (uint16_t)len, .kept_ms = now_ms, .pos = pos};
}

const uint8_t *rtp_cache_get(const rtp_cache *c, uint16_t seq, size_t *len,
                             uint64_t *kept_ms) {
  const rtp_cache_entry *e = &c->index[seq % c->n_slots];
  if (!intact(c, e) || e->seq != seq)
    return NULL;
  *len = e->len;
  *kept_ms = e->kept_ms;
  return c->ring + e->pos % c->cap;
}
