/* test_rtp_sent — the log of what a stream sent: entries found by sequence number until
 * a newer one takes their slot, the source cache held while pointed into, and the
 * resends a NACK may take: three at most, within the age, again for each new packet. */
#include "check.h"
#include "rtc/rtp_sent.h"

static void test_find(void) {
  rtp_cache *c = rtp_cache_new();
  rtp_sent *s = rtp_sent_new();
  rtp_sent_note(s, c, 100, 7, 9000, 1000);
  CHECK(c->holders == 2);
  const rtp_sent_entry *e = rtp_sent_find(s, 7);
  CHECK(e && e->source == c && e->source_seq == 100 && e->timestamp == 9000);
  CHECK(e && e->sent_ms == 1000 && e->resends == 0);
  CHECK(rtp_sent_find(s, 8) == NULL);
  /* A wrap later, the same slot holds another number: the old one is gone. */
  rtp_sent_note(s, c, 101, (uint16_t)(7 + RTP_SENT_SLOTS), 9100, 1020);
  CHECK(rtp_sent_find(s, 7) == NULL);
  CHECK(rtp_sent_find(s, (uint16_t)(7 + RTP_SENT_SLOTS)) != NULL);
  CHECK(c->holders == 2); /* one source, one hold per entry */
  rtp_sent_free(s);
  CHECK(c->holders == 1);
  rtp_cache_release(c);
}

static void test_resends(void) {
  rtp_cache *c = rtp_cache_new();
  rtp_sent *s = rtp_sent_new();
  rtp_sent_note(s, c, 1, 40, 0, 5);
  /* Three resends, then the hole is one only a keyframe mends. */
  for (int i = 0; i < 3; i++)
    CHECK(rtp_sent_take_resend(s, 40, 100, 1000, 3) != NULL);
  CHECK(rtp_sent_take_resend(s, 40, 100, 1000, 3) == NULL);
  CHECK(rtp_sent_find(s, 40)->resends == 3);
  CHECK(rtp_sent_take_resend(s, 41, 100, 1000, 3) == NULL); /* never sent */
  rtp_sent_note(s, c, 2, 42, 0, 10);
  CHECK(rtp_sent_take_resend(s, 42, 1011, 1000, 3) == NULL); /* too old */
  CHECK(rtp_sent_take_resend(s, 42, 1010, 1000, 3) != NULL);
  /* A new packet in the slot starts at none. */
  rtp_sent_note(s, c, 3, (uint16_t)(40 + RTP_SENT_SLOTS), 0, 6);
  CHECK(rtp_sent_take_resend(s, 40, 100, 1000, 3) == NULL);
  CHECK(rtp_sent_take_resend(s, (uint16_t)(40 + RTP_SENT_SLOTS), 100, 1000, 3) != NULL);
  /* sent_ms keeps a loop clock's values whole (56 bits). */
  rtp_sent_note(s, c, 4, 43, 0, 1ull << 40);
  CHECK(rtp_sent_find(s, 43)->sent_ms == 1ull << 40);
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
    rtp_sent_note(s, c, (uint16_t)(65500 + i), (uint16_t)(65400 + i), i * 900,
                  10000 + i * 10);
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
  CHECK_DONE();
}
