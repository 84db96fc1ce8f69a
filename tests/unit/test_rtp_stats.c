/* test_rtp_stats — receive statistics (RFC 3550 A.1, A.3, A.8): loss fraction and
 * cumulative loss per interval, wrap-around, duplicates, jitter, LSR and DLSR. */
#include "check.h"
#include "rtc/rtp_stats.h"

/* Packets first..last sent every 20 ms of an 8 kHz clock, arriving on time. */
static void feed(rtp_stats *s, unsigned first, unsigned last) {
  for (unsigned i = first; i <= last; i++)
    rtp_stats_packet(s, (uint16_t)i, 160 * i, 100, 1000 + 20 * (uint64_t)i);
}

static void test_loss(void) {
  rtp_stats s;
  rtcp_report_block b;
  rtp_stats_init(&s, 0xabcd, 8000);
  rtp_stats_report_block(&s, 0, &b); /* nothing received yet */
  CHECK(b.ssrc == 0xabcd && b.highest_seq == 0 && b.cumulative_lost == 0);
  feed(&s, 0, 9);
  feed(&s, 20, 29);
  rtp_stats_report_block(&s, 2000, &b);
  CHECK(b.ssrc == 0xabcd && b.highest_seq == 29);
  CHECK(b.cumulative_lost == 10 && b.fraction_lost == 85); /* 10 of 30: 256*10/30 */
  CHECK(s.bytes == 2000);
  feed(&s, 30, 39);
  rtp_stats_report_block(&s, 3000, &b);
  CHECK(b.fraction_lost == 0 && b.cumulative_lost == 10 && b.highest_seq == 39);
  feed(&s, 40, 40);
  feed(&s, 43, 43); /* 2 of 4 lost in this interval */
  rtp_stats_report_block(&s, 4000, &b);
  CHECK(b.fraction_lost == 128 && b.cumulative_lost == 12);
}

static void test_wrap(void) {
  rtp_stats s;
  rtcp_report_block b;
  rtp_stats_init(&s, 1, 8000);
  for (unsigned i = 65530; i < 65536 + 6; i++)
    rtp_stats_packet(&s, (uint16_t)i, 160 * i, 100, 20 * (uint64_t)i);
  rtp_stats_report_block(&s, 0, &b);
  CHECK(b.highest_seq == 0x10005 && b.cumulative_lost == 0 && b.fraction_lost == 0);
  CHECK(s.cycles == 65536 && s.base_seq == 65530);
}

static void test_reorder_duplicate_jump(void) {
  rtp_stats s;
  rtcp_report_block b;
  rtp_stats_init(&s, 1, 8000);
  static const uint16_t order[] = {0, 1, 3, 2, 4};
  for (int i = 0; i < 5; i++)
    rtp_stats_packet(&s, order[i], 0, 10, 0);
  rtp_stats_report_block(&s, 0, &b);
  CHECK(b.highest_seq == 4 && b.cumulative_lost == 0);
  rtp_stats_packet(&s, 3, 0, 10, 0); /* duplicate: loss goes negative (A.3) */
  rtp_stats_report_block(&s, 0, &b);
  CHECK(b.cumulative_lost == -1 && b.fraction_lost == 0 && b.highest_seq == 4);

  rtp_stats_packet(&s, 2004, 0, 10, 0); /* within MAX_DROPOUT: a gap of 1999 */
  rtp_stats_report_block(&s, 0, &b);
  CHECK(b.highest_seq == 2004 && b.cumulative_lost == 1998);
  rtp_stats_packet(&s, 40000, 0, 10, 0); /* beyond it: the sender restarted */
  rtp_stats_packet(&s, 40001, 0, 10, 0);
  rtp_stats_report_block(&s, 0, &b);
  CHECK(b.highest_seq == 40001 && b.cumulative_lost == 0 && b.fraction_lost == 0);
  rtp_stats_packet(&s, 10000, 0, 10, 0); /* one stray packet far away: ignored */
  rtp_stats_packet(&s, 40002, 0, 10, 0);
  rtp_stats_report_block(&s, 0, &b);
  CHECK(b.highest_seq == 40002 && b.cumulative_lost == 0);
}

static void test_jitter(void) {
  rtp_stats s;
  rtcp_report_block b;
  rtp_stats_init(&s, 1, 8000);
  feed(&s, 0, 9);
  CHECK(s.jitter == 0);
  rtp_stats_packet(&s, 10, 1600, 100, 1000 + 200 + 10); /* 10 ms = 80 units late */
  CHECK(s.jitter == 5.0);                               /* 80/16 */
  rtp_stats_packet(&s, 11, 1760, 100, 1000 + 220);      /* back on time */
  CHECK(s.jitter == 5.0 + 75.0 / 16);
  rtp_stats_report_block(&s, 0, &b);
  CHECK(b.jitter == 9);

  /* A 90 kHz stream whose timestamps wrap: transit stays constant, no jitter. */
  rtp_stats_init(&s, 2, 90000);
  for (uint32_t i = 0; i < 10; i++)
    rtp_stats_packet(&s, (uint16_t)i, 0xffffe000u + 2970 * i, 1000, 5000 + 33 * i);
  CHECK(s.jitter == 0);
}

static void test_lsr_dlsr(void) {
  rtp_stats s;
  rtcp_report_block b;
  rtp_stats_init(&s, 1, 48000);
  rtp_stats_packet(&s, 1, 960, 50, 100);
  rtp_stats_report_block(&s, 500, &b);
  CHECK(b.lsr == 0 && b.dlsr == 0); /* no SR yet */
  rtp_stats_sender_report(&s, 0x12345678, 0x9abcdef0, 1000);
  rtp_stats_report_block(&s, 1500, &b);
  CHECK(b.lsr == 0x56789abc && b.dlsr == 32768); /* 0.5 s in 1/65536 s */
  rtp_stats_report_block(&s, 3000, &b);
  CHECK(b.dlsr == 131072);
}

int main(void) {
  test_loss();
  test_wrap();
  test_reorder_duplicate_jump();
  test_jitter();
  test_lsr_dlsr();
  CHECK_DONE();
}
