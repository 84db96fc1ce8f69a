/* test_rtcp — RTCP against hand-assembled packets (SR, NACK, PLI, FIR, REMB, BYE),
 * writer output byte for byte, NACK packing over wrap-around, and bad compounds. */
#include "check.h"
#include "rtc/rtcp.h"

#include <stdint.h>

#define MAX_ITEMS 8

typedef struct {
  rtcp_item items[MAX_ITEMS];
  int n, calls;
} collected;

static void collect(const rtcp_item *item, void *ud) {
  collected *c = ud;
  if (c->n < MAX_ITEMS)
    c->items[c->n++] = *item;
  c->calls++;
}

static collected got; /* large: kept out of the stack */

static int parse(const uint8_t *pkt, size_t len) {
  memset(&got, 0, sizeof got);
  return rtcp_parse(pkt, len, collect, &got);
}

/* SR from 0x11223344 with two report blocks, the second with cumulative loss -1. */
static const uint8_t sr_two_blocks[] = {
    0x82, 0xc8, 0x00, 0x12, 0x11, 0x22, 0x33, 0x44, 0xe0, 0x00, 0x00, 0x01, 0x80, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x3e, 0x80,
    /* block 1 */
    0xaa, 0xbb, 0xcc, 0xdd, 0x40, 0x00, 0x00, 0x05, 0x00, 0x01, 0xff, 0xff, 0x00, 0x00,
    0x00, 0x20, 0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0x00, 0x00,
    /* block 2 */
    0x01, 0x02, 0x03, 0x04, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

static void test_sr(void) {
  CHECK(parse(sr_two_blocks, sizeof sr_two_blocks) == 1 && got.calls == 1);
  const rtcp_item *it = &got.items[0];
  CHECK(it->kind == RTCP_SR && it->sender_ssrc == 0x11223344);
  CHECK(it->ntp_sec == 0xe0000001 && it->ntp_frac == 0x80000000);
  CHECK(it->rtp_ts == 0x10000 && it->packet_count == 100 && it->octet_count == 16000);
  CHECK(it->n_blocks == 2);
  const rtcp_report_block *b = &it->blocks[0];
  CHECK(b->ssrc == 0xaabbccdd && b->fraction_lost == 0x40 && b->cumulative_lost == 5);
  CHECK(b->highest_seq == 0x1ffff && b->jitter == 0x20);
  CHECK(b->lsr == 0x12345678 && b->dlsr == 0x10000);
  CHECK(it->blocks[1].ssrc == 0x01020304 && it->blocks[1].cumulative_lost == -1);
  CHECK(it->blocks[1].highest_seq == 16);

  uint8_t out[128];
  size_t n = rtcp_write_sr(out, sizeof out, it->sender_ssrc, it->ntp_sec, it->ntp_frac,
                           it->rtp_ts, it->packet_count, it->octet_count, it->blocks, 2);
  CHECK(n == sizeof sr_two_blocks && memcmp(out, sr_two_blocks, n) == 0);
  CHECK(rtcp_write_sr(out, n - 1, 1, 0, 0, 0, 0, 0, it->blocks, 2) == 0);

  CHECK(parse(sr_two_blocks, sizeof sr_two_blocks - 24) == -1); /* length lies */
  uint8_t b3[sizeof sr_two_blocks];
  memcpy(b3, sr_two_blocks, sizeof b3);
  b3[0] = 0x83; /* three blocks claimed, room for two */
  CHECK(parse(b3, sizeof b3) == -1 && got.calls == 0);
}

static void test_rr(void) {
  rtcp_report_block blocks[2] = {
      {.ssrc = 5, .fraction_lost = 255, .cumulative_lost = -5, .highest_seq = 0x10005},
      {.ssrc = 6, .cumulative_lost = 0x7fffffff, .jitter = 9, .lsr = 1, .dlsr = 2}};
  uint8_t out[64];
  size_t n = rtcp_write_rr(out, sizeof out, 0xfeedface, blocks, 2);
  CHECK(n == 56 && out[0] == 0x82 && out[1] == 201 && out[3] == 13);
  CHECK(out[13] == 0xff && out[14] == 0xff && out[15] == 0xfb); /* -5 in 24 bits */
  CHECK(parse(out, n) == 1 && got.items[0].kind == RTCP_RR);
  const rtcp_item *it = &got.items[0];
  CHECK(it->sender_ssrc == 0xfeedface && it->n_blocks == 2);
  CHECK(it->blocks[0].fraction_lost == 255 && it->blocks[0].cumulative_lost == -5);
  CHECK(it->blocks[0].highest_seq == 0x10005);
  CHECK(it->blocks[1].cumulative_lost == 0x7fffff); /* clamped to 24 bits */
  CHECK(it->blocks[1].jitter == 9 && it->blocks[1].lsr == 1 && it->blocks[1].dlsr == 2);
  CHECK(rtcp_write_rr(out, sizeof out, 1, NULL, 0) == 8 && out[0] == 0x80);
  CHECK(rtcp_write_rr(out, 7, 1, NULL, 0) == 0);
}

/* RFC 4585 generic NACK: PID 100, BLP 0x8001 → 100, 101 and 116. */
static const uint8_t nack_100[] = {0x81, 0xcd, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
                                   0x00, 0x00, 0x00, 0x02, 0x00, 0x64, 0x80, 0x01};

static void test_nack(void) {
  CHECK(parse(nack_100, sizeof nack_100) == 1);
  const rtcp_item *it = &got.items[0];
  CHECK(it->kind == RTCP_NACK && it->sender_ssrc == 1 && it->media_ssrc == 2);
  CHECK(it->n_nacks == 3);
  CHECK(it->nacks[0] == 100 && it->nacks[1] == 101 && it->nacks[2] == 116);

  uint8_t out[64];
  static const uint16_t seqs[] = {116, 100, 101, 116};
  size_t n = rtcp_write_nack(out, sizeof out, 1, 2, seqs, 4);
  CHECK(n == sizeof nack_100 && memcmp(out, nack_100, n) == 0);
  CHECK(rtcp_write_nack(out, 15, 1, 2, seqs, 4) == 0);
  CHECK(rtcp_write_nack(out, sizeof out, 1, 2, seqs, 0) == 0);

  static const uint16_t apart[] = {1000, 10, 26, 27};
  n = rtcp_write_nack(out, sizeof out, 1, 2, apart, 4);
  static const uint8_t apart_fci[] = {0x00, 0x0a, 0x80, 0x00, 0x00, 0x1b,
                                      0x00, 0x00, 0x03, 0xe8, 0x00, 0x00};
  CHECK(n == 24 && out[3] == 5 && memcmp(out + 12, apart_fci, 12) == 0);
}

static void test_nack_wrap(void) {
  static const uint16_t seqs[] = {1, 65535, 0, 65534, 65535};
  uint8_t out[64];
  size_t n = rtcp_write_nack(out, sizeof out, 7, 8, seqs, 5);
  static const uint8_t fci[] = {0xff, 0xfe, 0x00, 0x07};
  CHECK(n == 16 && memcmp(out + 12, fci, 4) == 0);
  CHECK(parse(out, n) == 1 && got.items[0].n_nacks == 4);
  const uint16_t *s = got.items[0].nacks;
  CHECK(s[0] == 65534 && s[1] == 65535 && s[2] == 0 && s[3] == 1);

  /* Parsing a PID near the top expands across the wrap too. */
  static const uint8_t top[] = {0x81, 0xcd, 0x00, 0x03, 0,    0,    0,    1,
                                0,    0,    0,    2,    0xff, 0xff, 0x00, 0x01};
  CHECK(parse(top, sizeof top) == 1 && got.items[0].n_nacks == 2);
  CHECK(got.items[0].nacks[0] == 65535 && got.items[0].nacks[1] == 0);

  static const uint16_t one[] = {65535};
  CHECK(rtcp_write_nack(out, sizeof out, 7, 8, one, 1) == 16);
  CHECK(out[12] == 0xff && out[13] == 0xff && out[14] == 0 && out[15] == 0);
}

static void test_nack_cap(void) {
  /* 20 FCIs each with all 16 bits: 340 seqs, more than one item holds. */
  uint8_t pkt[12 + 80] = {0x81, 0xcd, 0x00, 22};
  for (int i = 0; i < 20; i++) {
    pkt[12 + 4 * i] = (uint8_t)((i * 17) >> 8); /* PIDs 0, 17, 34, ... */
    pkt[13 + 4 * i] = (uint8_t)(i * 17);
    pkt[14 + 4 * i] = pkt[15 + 4 * i] = 0xff;
  }
  CHECK(parse(pkt, sizeof pkt) == 2 && got.calls == 2);
  CHECK(got.items[0].n_nacks == RTCP_MAX_NACKS && got.items[1].n_nacks == 340 - 256);
  CHECK(got.items[1].kind == RTCP_NACK && got.items[1].media_ssrc == 0);
  CHECK(got.items[0].nacks[255] == 255 && got.items[1].nacks[83] == 339);

  /* The writer packs the same 340 seqs back into 20 FCIs. */
  uint16_t seqs[340];
  for (int i = 0; i < 340; i++)
    seqs[i] = (uint16_t)(339 - i);
  uint8_t out[128];
  CHECK(rtcp_write_nack(out, sizeof out, 0, 0, seqs, 340) == sizeof pkt);
  CHECK(memcmp(out, pkt, sizeof pkt) == 0);
}

static void test_pli_fir(void) {
  uint8_t out[64];
  static const uint8_t pli[] = {0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  CHECK(rtcp_write_pli(out, sizeof out, 1, 2) == 12 && memcmp(out, pli, 12) == 0);
  CHECK(rtcp_write_pli(out, 11, 1, 2) == 0);
  CHECK(parse(pli, sizeof pli) == 1 && got.items[0].kind == RTCP_PLI);
  CHECK(got.items[0].sender_ssrc == 1 && got.items[0].media_ssrc == 2);

  static const uint8_t fir[] = {0x84, 0xce, 0x00, 0x04, 0, 0, 0, 1, 0, 0,
                                0,    0,    0,    0,    0, 2, 9, 0, 0, 0};
  CHECK(rtcp_write_fir(out, sizeof out, 1, 2, 9) == 20 && memcmp(out, fir, 20) == 0);
  CHECK(rtcp_write_fir(out, 19, 1, 2, 9) == 0);
  /* Two FCI entries: one item each. */
  static const uint8_t fir2[] = {0x84, 0xce, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                 0,    2,    9,    0,    0, 0, 0, 0, 0, 3, 4, 0, 0, 0};
  CHECK(parse(fir2, sizeof fir2) == 2);
  CHECK(got.items[0].kind == RTCP_FIR && got.items[0].media_ssrc == 2);
  CHECK(got.items[0].fir_seq == 9 && got.items[1].media_ssrc == 3);
  CHECK(got.items[1].fir_seq == 4 && got.items[1].sender_ssrc == 1);
  uint8_t bad[sizeof fir];
  memcpy(bad, fir, sizeof bad);
  bad[3] = 3; /* FCI of 4 bytes: not a whole entry */
  CHECK(parse(bad, 16) == -1);
}

/* REMB of 1.5 Mbit/s: exponent 3, mantissa 187500 (0x2dc6c), one SSRC. */
static const uint8_t remb_1500k[] = {0x8f, 0xce, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01,
                                     0x00, 0x00, 0x00, 0x00, 'R',  'E',  'M',  'B',
                                     0x01, 0x0e, 0xdc, 0x6c, 0x12, 0x34, 0x56, 0x78};

static void test_remb(void) {
  CHECK(parse(remb_1500k, sizeof remb_1500k) == 1);
  const rtcp_item *it = &got.items[0];
  CHECK(it->kind == RTCP_REMB && it->sender_ssrc == 1 && it->remb_bps == 1500000);
  CHECK(it->n_remb_ssrcs == 1 && it->remb_ssrcs[0] == 0x12345678);
  uint8_t out[128];
  uint32_t ssrc = 0x12345678;
  size_t n = rtcp_write_remb(out, sizeof out, 1, 1500000, &ssrc, 1);
  CHECK(n == sizeof remb_1500k && memcmp(out, remb_1500k, n) == 0);
  CHECK(rtcp_write_remb(out, n - 1, 1, 1500000, &ssrc, 1) == 0);

  /* Ten SSRCs: all on the wire, the first eight in the item. */
  uint32_t many[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  n = rtcp_write_remb(out, sizeof out, 1, UINT64_MAX, many, 10);
  CHECK(n == 60 && parse(out, n) == 1);
  CHECK(got.items[0].n_remb_ssrcs == RTCP_MAX_REMB_SSRCS &&
        got.items[0].remb_ssrcs[7] == 8);
  /* The largest bitrate loses only the low bits below the mantissa. */
  CHECK(got.items[0].remb_bps == (UINT64_MAX >> 46) << 46);
  n = rtcp_write_remb(out, sizeof out, 1, 262143, NULL, 0);
  CHECK(n == 20 && parse(out, n) == 1 && got.items[0].remb_bps == 262143);

  uint8_t bad[sizeof remb_1500k];
  memcpy(bad, remb_1500k, sizeof bad);
  bad[16] = 2; /* two SSRCs claimed, one present */
  CHECK(parse(bad, sizeof bad) == -1);
  bad[16] = 1;
  bad[17] = 0xff; /* exponent 63: saturates instead of overflowing */
  CHECK(parse(bad, sizeof bad) == 1 && got.items[0].remb_bps == UINT64_MAX);
  bad[12] = 'X'; /* other application feedback */
  CHECK(parse(bad, sizeof bad) == 1 && got.items[0].kind == RTCP_OTHER);
}

static void test_sdes_bye_other(void) {
  uint8_t out[64];
  size_t n = rtcp_write_sdes_cname(out, sizeof out, 0x01020304, "abc");
  static const uint8_t sdes[] = {0x81, 0xca, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04,
                                 0x01, 0x03, 'a',  'b',  'c',  0x00, 0x00, 0x00};
  CHECK(n == sizeof sdes && memcmp(out, sdes, n) == 0);
  CHECK(parse(out, n) == 1 && got.items[0].kind == RTCP_SDES);
  CHECK(got.items[0].sender_ssrc == 0x01020304);
  n = rtcp_write_sdes_cname(out, sizeof out, 1, "abcdef"); /* 8+2+6+1 → exactly 4 pad */
  CHECK(n == 20 && out[19] == 0 && parse(out, n) == 1);
  CHECK(rtcp_write_sdes_cname(out, 15, 1, "abc") == 0);
  uint8_t bad[32];
  memcpy(bad, sdes, sizeof sdes);
  bad[9] = 6; /* CNAME runs into the padding, leaving no null octet */
  CHECK(parse(bad, sizeof sdes) == -1);
  /* Two chunks: the second starts at the 32-bit boundary after the first's null. */
  static const uint8_t two[] = {0x82, 0xca, 0x00, 0x05, 0, 0, 0, 1, 0x01, 0x03, 'a', 'b',
                                'c',  0,    0,    0,    1, 2, 3, 4, 0x01, 0x01, 'x', 0};
  CHECK(parse(two, sizeof two) == 1 && got.items[0].sender_ssrc == 1);
  memcpy(bad, two, 20);
  bad[3] = 4; /* the packet now ends after the second chunk's SSRC */
  CHECK(parse(bad, 20) == -1);

  /* BYE for two SSRCs with the reason "bye". */
  static const uint8_t bye[] = {0x82, 0xcb, 0x00, 0x03, 0,    0,   0,   5,
                                0,    0,    0,    6,    0x03, 'b', 'y', 'e'};
  CHECK(parse(bye, sizeof bye) == 2);
  CHECK(got.items[0].kind == RTCP_BYE && got.items[0].sender_ssrc == 5);
  CHECK(got.items[1].kind == RTCP_BYE && got.items[1].sender_ssrc == 6);
  memcpy(bad, bye, sizeof bye);
  bad[12] = 4; /* reason longer than the packet */
  CHECK(parse(bad, sizeof bye) == -1);

  static const uint8_t twcc[] = {0x8f, 0xcd, 0x00, 0x04, 0, 0, 0, 1, 0, 0,
                                 0,    2,    0x00, 0x01, 0, 1, 0, 0, 0, 0};
  CHECK(parse(twcc, sizeof twcc) == 1 && got.items[0].kind == RTCP_TWCC);
  CHECK(got.items[0].media_ssrc == 2);
  static const uint8_t app[] = {0x80, 0xcc, 0x00, 0x02, 0, 0, 0, 9, 'n', 'a', 'm', 'e'};
  CHECK(parse(app, sizeof app) == 1 && got.items[0].kind == RTCP_OTHER);
  CHECK(got.items[0].sender_ssrc == 9);
}

static void test_compound(void) {
  uint8_t out[256];
  rtcp_report_block block = {.ssrc = 42, .highest_seq = 1000};
  size_t n = rtcp_write_rr(out, sizeof out, 1, &block, 1);
  n += rtcp_write_sdes_cname(out + n, sizeof out - n, 1, "parley");
  n += rtcp_write_pli(out + n, sizeof out - n, 1, 42);
  uint16_t lost[] = {7, 9};
  n += rtcp_write_nack(out + n, sizeof out - n, 1, 42, lost, 2);
  n += rtcp_write_remb(out + n, sizeof out - n, 1, 300001, &block.ssrc, 1);
  CHECK(parse(out, n) == 5 && got.calls == 5);
  CHECK(got.items[0].kind == RTCP_RR && got.items[0].blocks[0].highest_seq == 1000);
  CHECK(got.items[1].kind == RTCP_SDES && got.items[2].kind == RTCP_PLI);
  CHECK(got.items[3].kind == RTCP_NACK && got.items[3].n_nacks == 2);
  CHECK(got.items[3].nacks[1] == 9 && got.items[4].kind == RTCP_REMB);
  CHECK(got.items[4].remb_bps == 300000); /* exponent 1: the low bit is dropped */

  /* Padding: allowed on the last packet only, counted by the last octet. */
  uint8_t pad[64];
  size_t rr = rtcp_write_rr(pad, sizeof pad, 1, NULL, 0);
  size_t pli = rtcp_write_pli(pad + rr, sizeof pad - rr, 1, 2);
  memcpy(pad + rr + pli, "\0\0\0\x04", 4);
  pad[rr] |= 0x20;
  pad[rr + 3] = 3; /* PLI now 16 bytes with 4 of padding */
  CHECK(parse(pad, rr + pli + 4) == 2 && got.items[1].kind == RTCP_PLI);
  pad[rr + pli + 3] = 13; /* more padding than the packet's body */
  CHECK(parse(pad, rr + pli + 4) == -1 && got.calls == 0);
  pad[rr + pli + 3] = 0;
  CHECK(parse(pad, rr + pli + 4) == -1);
  pad[rr + pli + 3] = 4;
  pad[0] |= 0x20; /* padding on the first packet */
  CHECK(parse(pad, rr + pli + 4) == -1 && got.calls == 0);
}

static void test_malformed(void) {
  uint8_t b[64] = {0};
  size_t rr = rtcp_write_rr(b, sizeof b, 1, NULL, 0);
  size_t n = rr + rtcp_write_pli(b + rr, sizeof b - rr, 1, 2);
  CHECK(parse(b, n) == 2);
  CHECK(parse(b, n - 1) == -1 && got.calls == 0); /* truncated */
  CHECK(parse(b, n + 2) == -1);                   /* trailing bytes */
  CHECK(parse(b, 0) == -1 && parse(b, 3) == -1);
  b[rr] = 0x41; /* bad version in the second packet: the first is not reported */
  CHECK(parse(b, n) == -1 && got.calls == 0);
  b[rr] = 0x81;
  b[rr + 3] = 3; /* second packet's length runs past the compound */
  CHECK(parse(b, n) == -1 && got.calls == 0);
  b[rr + 3] = 1; /* too short for a feedback packet */
  CHECK(parse(b, rr + 8) == -1 && got.calls == 0);
  uint8_t nack[sizeof nack_100 + 8];
  memcpy(nack, b, rr);
  memcpy(nack + rr, nack_100, sizeof nack_100);
  nack[rr + 3] = 2; /* NACK with no FCI */
  CHECK(parse(nack, rr + 12) == -1 && got.calls == 0);
  CHECK(rtcp_parse(nack, 8, NULL, NULL) == 1); /* a NULL callback just counts */
}

int main(void) {
  test_sr();
  test_rr();
  test_nack();
  test_nack_wrap();
  test_nack_cap();
  test_pli_fir();
  test_remb();
  test_sdes_bye_other();
  test_compound();
  test_malformed();
  CHECK_DONE();
}
