/* test_twcc — transport-wide cc on the wire: a hand-assembled feedback parsed, our
 * feedback for losses, reordering, long gaps and wrap-around parsed back to the same
 * arrivals, malformed feedback refused whole, the send log matched, and stamping of
 * RTP packets with and without header extensions. */
#include "check.h"
#include "rtc/rtp.h"
#include "rtc/twcc.h"

#include <stdint.h>

typedef struct {
  uint16_t seq[2048];
  bool received[2048];
  int64_t at[2048];
  int n;
} statuses;

static void collect(uint16_t seq, bool received, int64_t arrival_us, void *ud) {
  statuses *s = ud;
  if (s->n < 2048) {
    s->seq[s->n] = seq;
    s->received[s->n] = received;
    s->at[s->n] = arrival_us;
  }
  s->n++;
}

static statuses got;

/* base 5, 3 packets, reference 1 (64 ms), fb count 7; one run of 3 "small delta";
 * deltas 4, 8, 12 quarter-ms. */
static const uint8_t fci_run[] = {0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x01,
                                  0x07, 0x20, 0x03, 0x04, 0x08, 0x0c};

static void test_parse_known(void) {
  twcc_fb_header h;
  memset(&got, 0, sizeof got);
  CHECK(twcc_feedback_parse(fci_run, sizeof fci_run, &h, collect, &got) == 3);
  CHECK(h.base_seq == 5 && h.status_count == 3 && h.ref_time == 1 && h.fb_count == 7);
  CHECK(got.n == 3 && got.seq[0] == 5 && got.seq[2] == 7);
  CHECK(got.received[0] && got.received[1] && got.received[2]);
  CHECK(got.at[0] == 64000 + 1000 && got.at[1] == 64000 + 3000 &&
        got.at[2] == 64000 + 6000);

  /* A 2-bit vector of 7 slots for 5 packets: received small, lost, received large
   * (-2 ms), received small, lost; deltas 8, -8 (two bytes), 1. */
  const uint8_t fci_vec[] = {0xff,
                             0xff,
                             0x00,
                             0x05,
                             0x00,
                             0x00,
                             0x02,
                             0x00,
                             /* 11 01 00 10 01 00 00 00 */ 0xd2,
                             0x40,
                             0x08,
                             0xff,
                             0xf8,
                             0x01};
  memset(&got, 0, sizeof got);
  CHECK(twcc_feedback_parse(fci_vec, sizeof fci_vec, &h, collect, &got) == 5);
  CHECK(got.seq[0] == 0xffff && got.seq[1] == 0 && got.seq[4] == 3); /* wraps */
  CHECK(got.received[0] && !got.received[1] && got.received[2] && got.received[3] &&
        !got.received[4]);
  CHECK(got.at[0] == 128000 + 2000 && got.at[2] == 128000 && got.at[3] == 128250);
}

static void test_parse_refusals(void) {
  uint8_t bad[sizeof fci_run];
  memset(&got, 0, sizeof got);
  /* deltas cut short */
  CHECK(twcc_feedback_parse(fci_run, sizeof fci_run - 1, NULL, collect, &got) == -1);
  /* chunks cut short */
  CHECK(twcc_feedback_parse(fci_run, 9, NULL, collect, &got) == -1);
  /* reserved symbol 3 in a run */
  memcpy(bad, fci_run, sizeof bad);
  bad[8] = 0x60;
  CHECK(twcc_feedback_parse(bad, sizeof bad, NULL, collect, &got) == -1);
  /* status count 0 */
  memcpy(bad, fci_run, sizeof bad);
  bad[3] = 0;
  CHECK(twcc_feedback_parse(bad, sizeof bad, NULL, collect, &got) == -1);
  CHECK(twcc_feedback_parse(fci_run, 7, NULL, collect, &got) == -1);
  CHECK(got.n == 0); /* nothing was reported from a refused one */
}

/* Our feedback, as an RTCP packet, back through the parser. */
static int parse_ours(const uint8_t *pkt, size_t len, twcc_fb_header *h) {
  CHECK(len % 4 == 0 && len >= 20);
  CHECK(pkt[1] == 205 && (pkt[0] & 0x1f) == 15);
  CHECK((size_t)((pkt[2] << 8 | pkt[3]) + 1) * 4 == len);
  size_t body = len - 12;
  if (pkt[0] & 0x20)
    body -= pkt[len - 1];
  memset(&got, 0, sizeof got);
  return twcc_feedback_parse(pkt + 12, body, h, collect, &got);
}

static twcc_recv rx;

static void test_feedback_round_trip(void) {
  twcc_recv_init(&rx);
  CHECK(!twcc_recv_pending(&rx));
  int64_t t0 = 5000000123; /* any clock */
  /* 65530..65539 (wrapping), 65533 lost, 65535 arriving before 65534, and 65538 three
   * seconds late (a two-byte delta). */
  int64_t arrive[10];
  for (int i = 0; i < 10; i++)
    arrive[i] = t0 + i * 3000;
  arrive[4] = t0 + 11000;
  arrive[5] = t0 + 10000;
  arrive[8] = t0 + 3000000;
  arrive[9] = t0 + 3001000;
  for (int i = 0; i < 10; i++)
    if (i != 3)
      twcc_recv_packet(&rx, (uint16_t)(65530 + i), 0x1234, arrive[i]);
  CHECK(twcc_recv_pending(&rx));
  uint8_t pkt[1400];
  size_t n = twcc_recv_feedback(&rx, 0xabcd, pkt, sizeof pkt);
  CHECK(n > 0 && !twcc_recv_pending(&rx));
  twcc_fb_header h;
  CHECK(parse_ours(pkt, n, &h) == 10);
  CHECK(h.base_seq == 65530 && h.fb_count == 0);
  CHECK(pkt[4] == 0 && pkt[5] == 0 && pkt[6] == 0xab && pkt[11] == 0x34);
  for (int i = 0; i < 10; i++) {
    CHECK(got.seq[i] == (uint16_t)(65530 + i));
    CHECK(got.received[i] == (i != 3));
  }
  /* Times are the reporter's: compare differences, to 250 us. */
  for (int i = 1; i < 10; i++) {
    if (i == 3)
      continue;
    int64_t want = arrive[i] - arrive[0], have = got.at[i] - got.at[0];
    CHECK(have - want < 250 && want - have < 250);
  }
  /* A late packet for a reported seq is ignored; the next feedback starts after. */
  twcc_recv_packet(&rx, 65533, 0x1234, t0 + 3002000);
  CHECK(!twcc_recv_pending(&rx));
  twcc_recv_packet(&rx, 4, 0x1234, t0 + 3003000);
  n = twcc_recv_feedback(&rx, 0xabcd, pkt, sizeof pkt);
  CHECK(parse_ours(pkt, n, &h) == 1 && h.base_seq == 4 && h.fb_count == 1);
  CHECK(twcc_recv_feedback(&rx, 0xabcd, pkt, 20) == 0); /* nothing pending */
}

/* Many packets: split over several feedback packets, each under the cap; a run
 * length chunk for a long loss. */
static void test_feedback_many(void) {
  twcc_recv_init(&rx);
  for (int i = 0; i < 1000; i++)
    if (i < 100 || i >= 300)
      twcc_recv_packet(&rx, (uint16_t)(100 + i), 1, 1000000 + i * 500);
  int total = 0, received = 0, packets = 0;
  uint8_t pkt[1400];
  size_t n;
  while ((n = twcc_recv_feedback(&rx, 2, pkt, sizeof pkt)) > 0) {
    CHECK(n <= 1223);
    twcc_fb_header h;
    int c = parse_ours(pkt, n, &h);
    CHECK(c > 0 && h.base_seq == (uint16_t)(100 + total));
    for (int i = 0; i < got.n; i++)
      received += got.received[i];
    total += c;
    packets++;
  }
  CHECK(total == 1000 && received == 800 && packets == 4);
}

static twcc_send tx;

typedef struct {
  twcc_result r[64];
  size_t n;
} results;

static void keep_results(const twcc_result *r, size_t n, void *ud) {
  results *out = ud;
  for (size_t i = 0; i < n && out->n < 64; i++)
    out->r[out->n++] = r[i];
}

static void test_send_log(void) {
  memset(&tx, 0, sizeof tx);
  twcc_recv_init(&rx);
  for (uint16_t s = 10; s < 20; s++) {
    twcc_send_note(&tx, s, 1000 * s, 100u + s);
    if (s != 15)
      twcc_recv_packet(&rx, s, 7, 77000000 + 2000 * s);
  }
  uint8_t pkt[1400];
  size_t n = twcc_recv_feedback(&rx, 2, pkt, sizeof pkt);
  results res = {0};
  size_t body = n - 12 - ((pkt[0] & 0x20) ? pkt[n - 1] : 0);
  CHECK(twcc_send_on_feedback(&tx, pkt + 12, body, keep_results, &res) == 10);
  CHECK(res.n == 10);
  CHECK(res.r[0].send_us == 10000 && res.r[0].size == 110 && res.r[0].recv_us >= 0);
  CHECK(res.r[5].recv_us == -1 && res.r[5].size == 115);
  CHECK(res.r[9].recv_us - res.r[0].recv_us == 18000);
  /* The same feedback again matches nothing: each packet is reported once. */
  res.n = 0;
  CHECK(twcc_send_on_feedback(&tx, pkt + 12, body, keep_results, &res) == 0 &&
        res.n == 0);
  /* A packet never sent (no log entry) is left out. */
  twcc_recv_packet(&rx, 20, 7, 77100000);
  n = twcc_recv_feedback(&rx, 2, pkt, sizeof pkt);
  body = n - 12 - ((pkt[0] & 0x20) ? pkt[n - 1] : 0);
  CHECK(twcc_send_on_feedback(&tx, pkt + 12, body, keep_results, &res) == 0);
  CHECK(twcc_send_on_feedback(&tx, pkt + 12, 3, keep_results, &res) == -1);
}

static void check_stamped(const uint8_t *pkt, size_t len, uint8_t id, uint16_t seq,
                          const uint8_t *payload, size_t payload_len) {
  rtp_header h;
  CHECK(rtp_parse(pkt, len, &h) == 0);
  const uint8_t *data;
  size_t n;
  CHECK(rtp_ext_find(pkt, &h, id, &data, &n) == 0 && n == 2);
  CHECK((data[0] << 8 | data[1]) == seq);
  CHECK(h.payload_len == payload_len &&
        memcmp(pkt + h.payload_offset, payload, payload_len) == 0);
}

static void test_stamp(void) {
  const uint8_t payload[5] = {1, 2, 3, 4, 5};
  uint8_t pkt[64];
  /* No extension: a block is added. */
  size_t len = rtp_write_header(pkt, 96, true, 1, 2, 3);
  memcpy(pkt + len, payload, 5);
  len += 5;
  size_t n = twcc_stamp(pkt, len, 3, 0x1234);
  CHECK(n == len + TWCC_EXT_ROOM);
  check_stamped(pkt, n, 3, 0x1234, payload, 5);
  /* Stamped again: overwritten in place. */
  CHECK(twcc_stamp(pkt, n, 3, 0x4321) == n);
  check_stamped(pkt, n, 3, 0x4321, payload, 5);
  /* Another one-byte element there (id 1, audio level): ours is appended. */
  len = rtp_write_header(pkt, 111, false, 1, 2, 3);
  pkt[0] |= 0x10;
  const uint8_t block[8] = {0xbe, 0xde, 0x00, 0x01, 0x10, 0x85, 0x00, 0x00};
  memcpy(pkt + len, block, 8);
  memcpy(pkt + len + 8, payload, 5);
  len += 13;
  n = twcc_stamp(pkt, len, 5, 7);
  CHECK(n == len + 4);
  check_stamped(pkt, n, 5, 7, payload, 5);
  rtp_header h;
  int level;
  bool voice;
  CHECK(rtp_parse(pkt, n, &h) == 0 && rtp_audio_level(pkt, &h, 1, &level, &voice) == 0 &&
        level == 5 && voice);
  /* Padding-only packet (RTX probe): padding survives the move. */
  len = rtp_write_header(pkt, 97, false, 9, 9, 9);
  pkt[0] |= 0x20;
  memset(pkt + len, 0, 9);
  pkt[len + 9] = 10;
  len += 10;
  n = twcc_stamp(pkt, len, 2, 99);
  CHECK(n == len + 8 && rtp_parse(pkt, n, &h) == 0 && h.payload_len == 0);
  check_stamped(pkt, n, 2, 99, payload, 0);
  /* A copy without the sender's extensions, with ours reserved, then stamped. */
  len = rtp_write_header(pkt, 111, false, 1, 2, 3);
  pkt[0] |= 0x10;
  memcpy(pkt + len, block, 8);
  memcpy(pkt + len + 8, payload, 5);
  len += 13;
  CHECK(rtp_parse(pkt, len, &h) == 0);
  uint8_t copy[64];
  n = twcc_copy_stripped(copy, pkt, len, &h, 4);
  CHECK(n == len && twcc_stamp(copy, n, 4, 0x0102) == n);
  check_stamped(copy, n, 4, 0x0102, payload, 5);
  CHECK(rtp_parse(copy, n, &h) == 0 && rtp_audio_level(copy, &h, 1, &level, &voice) != 0);
  n = twcc_copy_stripped(copy, pkt, len, &h, 0); /* no transport-cc: no extension */
  CHECK(n == len - 8 && !(copy[0] & 0x10) && memcmp(copy + 12, payload, 5) == 0);
  /* Refused: id out of range, garbage. */
  CHECK(twcc_stamp(pkt, n, 15, 1) == 0 && twcc_stamp(pkt, 5, 3, 1) == 0);
}

int main(void) {
  test_parse_known();
  test_parse_refusals();
  test_feedback_round_trip();
  test_feedback_many();
  test_send_log();
  test_stamp();
  CHECK_DONE();
}
