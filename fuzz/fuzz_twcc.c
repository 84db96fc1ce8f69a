/* fuzz_twcc — libFuzzer harness for transport-wide feedback (rtc/twcc.c): the FCI
 * parser on any bytes (all or nothing, statuses within the count, arrival times from
 * the deltas), the same bytes matched against a full send log, the arrivals it
 * reports recorded and written back as our own feedback that must parse to the same
 * statuses, and the bytes stamped as an RTP packet. */
#include "rtc/rtp.h"
#include "rtc/twcc.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int calls;
  uint16_t next_seq;
  bool received[65536];
  int64_t at[65536];
} seen;

static seen first, second;

static void record(uint16_t seq, bool received, int64_t arrival_us, void *ud) {
  seen *s = ud;
  CHECK(seq == s->next_seq); /* in order, one each */
  s->next_seq++;
  CHECK(received || arrival_us == -1);
  if (s->calls < 65536) {
    s->received[s->calls] = received;
    s->at[s->calls] = arrival_us;
  }
  s->calls++;
}

static twcc_send log_;
static twcc_recv rx;
static size_t matched;

static void count_results(const twcc_result *r, size_t n, void *ud) {
  (void)ud;
  CHECK(n > 0 && n <= 256);
  for (size_t i = 0; i < n; i++)
    CHECK(r[i].size == 100 && r[i].send_us >= 0);
  matched += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *fci = malloc(size ? size : 1); /* exact size: ASan sees any overread */
  if (size)
    memcpy(fci, data, size);
  memset(&first, 0, sizeof first);
  twcc_fb_header h;
  first.next_seq = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
  int n = twcc_feedback_parse(fci, size, &h, record, &first);
  CHECK(n == -1 ? first.calls == 0 : n == first.calls && n == h.status_count && n > 0);
  CHECK(twcc_feedback_parse(fci, size, NULL, NULL, NULL) == n);

  /* Matched against a log holding every seq: one result per status. */
  static bool filled;
  if (!filled) {
    for (uint32_t s = 0; s < TWCC_SENT_SLOTS; s++)
      twcc_send_note(&log_, (uint16_t)s, (int64_t)s * 1000, 100);
    filled = true;
  }
  matched = 0;
  twcc_send log_copy = log_;
  int m = twcc_send_on_feedback(&log_copy, fci, size, count_results, NULL);
  CHECK(m == -1 ? n == -1 : (size_t)m == matched && m <= n);

  if (n > 0 && n <= TWCC_RECV_SLOTS) {
    /* What it reports received, recorded by our receive side, comes back as received
     * in our own feedback (deltas far apart may split it over several packets). */
    twcc_recv_init(&rx);
    int64_t base = -1, offset = 1000000000000; /* our clock is not the reporter's */
    int want = 0;
    for (int i = 0; i < n; i++) {
      if (!first.received[i])
        continue;
      if (base < 0)
        base = first.at[i];
      twcc_recv_packet(&rx, (uint16_t)(h.base_seq + i), 1, first.at[i] - base + offset);
      want++;
    }
    int got = 0;
    uint8_t pkt[1400];
    size_t len;
    while ((len = twcc_recv_feedback(&rx, 9, pkt, sizeof pkt)) > 0) {
      CHECK(len % 4 == 0 && len <= 1223);
      size_t body = len - 12 - ((pkt[0] & 0x20) ? pkt[len - 1] : 0);
      memset(&second, 0, sizeof second);
      second.next_seq = (uint16_t)(pkt[12] << 8 | pkt[13]);
      int k = twcc_feedback_parse(pkt + 12, body, NULL, record, &second);
      CHECK(k > 0 && k == second.calls);
      for (int i = 0; i < k; i++)
        got += second.received[i];
    }
    CHECK(got == want);
  }

  /* The bytes as an RTP packet, stamped with room to spare. */
  uint8_t *rtp = malloc(size + TWCC_EXT_ROOM + 1);
  if (size)
    memcpy(rtp, data, size);
  size_t stamped = twcc_stamp(rtp, size, 3, 0xbeef);
  if (stamped) {
    rtp_header rh;
    const uint8_t *v;
    size_t vn;
    CHECK(stamped <= size + TWCC_EXT_ROOM);
    CHECK(rtp_parse(rtp, stamped, &rh) == 0);
    CHECK(rtp_ext_find(rtp, &rh, 3, &v, &vn) == 0 && vn == 2 && v[0] == 0xbe &&
          v[1] == 0xef);
  }
  free(rtp);
  free(fci);
  return 0;
}
