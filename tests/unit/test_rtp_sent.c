/* test_rtp_sent — the log of what a stream sent: entries found by sequence number until
 * a newer one takes their slot, the source cache held while pointed into, and the
 * resends a NACK may take: three at most, within the age, again for each new packet;
 * the picture id deltas a resend needs. */
#include "check.h"
#include "rtc/rtp_sent.h"

static void note(rtp_sent *s, rtp_cache *c, uint16_t source_seq, uint16_t seq,
                 uint32_t ts, uint64_t now) {
  rtp_renumbered as = {.seq = seq, .ts = ts};
  rtp_sent_note(s, c, source_seq, &as, now);
}

static void test_find(void) {
  rtp_cache *c = rtp_cache_new();
  rtp_sent *s = rtp_sent_new();
  note(s, c, 100, 7, 9000, 1000);
  CHECK(c->holders == 2);
  const rtp_sent_entry *e = rtp_sent_find(s, 7);
  CHECK(e && e->source == c && e->source_seq == 100 && e->timestamp == 9000);
  CHECK(e && e->sent_ms == 1000 && e->resends == 0);
  CHECK(rtp_sent_find(s, 8) == NULL);
  /* A wrap later, the same slot holds another number: the old one is gone. */
  note(s, c, 101, (uint16_t)(7 + RTP_SENT_SLOTS), 9100, 1020);
  CHECK(rtp_sent_find(s, 7) == NULL);
  CHECK(rtp_sent_find(s, (uint16_t)(7 + RTP_SENT_SLOTS)) != NULL);
  CHECK(c->holders == 2); /* one source, one hold per entry */
  rtp_sent_free(s);
  CHECK(c->holders == 1);
  rtp_cache_release(c);
}

/* An entry keeps the picture id and TL0PICIDX deltas its packet went out with, so a
 * resend carries the same ids. */
static void test_deltas(void) {
  rtp_cache *c = rtp_cache_new();
  rtp_sent *s = rtp_sent_new();
  rtp_renumbered as = {.seq = 9, .ts = 77, .pic_delta = 0x7ffe, .tl0_delta = 200};
  rtp_sent_note(s, c, 3, &as, 50);
  const rtp_sent_entry *e = rtp_sent_find(s, 9);
  CHECK(e && e->timestamp == 77 && e->pic_delta == 0x7ffe && e->tl0_delta == 200);
  CHECK(sizeof *e == 24);
  rtp_sent_free(s);
  rtp_cache_release(c);
}

static void test_resends(void) {
  rtp_cache *c = rtp_cache_new();
  rtp_sent *s = rtp_sent_new();
  note(s, c, 1, 40, 0, 5);
  /* Three resends, then the hole is one only a keyframe mends. */
  for (int i = 0; i < 3; i++)
    CHECK(rtp_sent_take_resend(s, 40, 100, 1000, 3) != NULL);
  CHECK(rtp_sent_take_resend(s, 40, 100, 1000, 3) == NULL);
  CHECK(rtp_sent_find(s, 40)->resends == 3);
  CHECK(rtp_sent_take_resend(s, 41, 100, 1000, 3) == NULL); /* never sent */
  note(s, c, 2, 42, 0, 10);
  CHECK(rtp_sent_take_resend(s, 42, 1011, 1000, 3) == NULL); /* too old */
  CHECK(rtp_sent_take_resend(s, 42, 1010, 1000, 3) != NULL);
  /* A new packet in the slot starts at none. */
  note(s, c, 3, (uint16_t)(40 + RTP_SENT_SLOTS), 0, 6);
  CHECK(rtp_sent_take_resend(s, 40, 100, 1000, 3) == NULL);
  CHECK(rtp_sent_take_resend(s, (uint16_t)(40 + RTP_SENT_SLOTS), 100, 1000, 3) != NULL);
  /* Ages hold across the wrap of the 32-bit send time. */
  note(s, c, 4, 43, 0, (1ull << 40) - 10);
  CHECK(rtp_sent_age(rtp_sent_find(s, 43), (1ull << 40) + 20) == 30);
  CHECK(rtp_sent_take_resend(s, 43, (1ull << 40) + 20, 1000, 3) != NULL);
  rtp_sent_free(s);
  rtp_cache_release(c);
}

/* The slots follow the packet rate: 100 packets/s for 3 s needs 128 (the last second),
 * and every packet of that second is found with its own numbers. */
static void test_grows(void) {
  rtp_cache *c = rtp_cache_new();
  rtp_sent *s = rtp_sent_new();
  CHECK(s->n_slots == RTP_SENT_MIN_SLOTS);
  for (unsigned i = 0; i < 300; i++)
    note(s, c, (uint16_t)(65500 + i), (uint16_t)(65400 + i), i * 900, 10000 + i * 10);
  CHECK(s->n_slots == 128);
  bool all = true;
  for (unsigned i = 200; i < 300; i++) {
    const rtp_sent_entry *e = rtp_sent_find(s, (uint16_t)(65400 + i));
    all = all && e && e->source_seq == (uint16_t)(65500 + i) && e->timestamp == i * 900;
  }
  CHECK(all);
  CHECK(c->holders == 1 + 128); /* a hold per entry, moved with it */
  rtp_sent_free(s);
  CHECK(c->holders == 1);
  rtp_cache_release(c);
}

int main(void) {
  test_grows();
  test_find();
  test_resends();
  test_deltas();
  CHECK_DONE();
}
