/* test_dcep — DATA_CHANNEL_OPEN and ACK (RFC 8832): a hand-assembled OPEN as Chromium
 * sends it parsed, every channel type written and parsed back, reliability ignored for
 * reliable types, and malformed messages (lengths, types, oversize labels) refused. */
#include "check.h"
#include "rtc/dcep.h"

#include <stdint.h>

static void test_parse_chromium_open(void) {
  /* OPEN, partial reliable rexmit unordered, priority 256, 3 retransmits, label "chat",
   * protocol "". */
  const uint8_t msg[] = {0x03, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03,
                         0x00, 0x04, 0x00, 0x00, 'c',  'h',  'a',  't'};
  dcep_open o;
  CHECK(dcep_parse(msg, sizeof msg, &o) == DCEP_MSG_OPEN);
  CHECK(o.channel_type == DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED);
  CHECK(!dcep_ordered(o.channel_type));
  CHECK(o.priority == 256 && o.reliability == 3);
  CHECK(o.label_len == 4 && o.protocol_len == 0);
  CHECK_STR(o.label, "chat");
  CHECK_STR(o.protocol, "");
  CHECK(dcep_parse(msg, sizeof msg, NULL) == DCEP_MSG_OPEN);
}

static void test_round_trip(void) {
  const uint8_t types[] = {DCEP_RELIABLE,
                           DCEP_RELIABLE_UNORDERED,
                           DCEP_PARTIAL_RELIABLE_REXMIT,
                           DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED,
                           DCEP_PARTIAL_RELIABLE_TIMED,
                           DCEP_PARTIAL_RELIABLE_TIMED_UNORDERED};
  for (size_t i = 0; i < sizeof types; i++) {
    dcep_open o = {.channel_type = types[i],
                   .priority = 512,
                   .reliability = 1500,
                   .label_len = 3,
                   .protocol_len = 4};
    memcpy(o.label, "a\0b", 3); /* labels may hold NULs */
    memcpy(o.protocol, "json", 4);
    uint8_t buf[64];
    size_t n = dcep_write_open(&o, buf, sizeof buf);
    CHECK(n == DCEP_OPEN_HEADER + 7);
    dcep_open back;
    CHECK(dcep_parse(buf, n, &back) == DCEP_MSG_OPEN);
    CHECK(back.channel_type == types[i] && back.priority == 512);
    /* §5.1: the reliability parameter means nothing for reliable channels. */
    CHECK(back.reliability == ((types[i] & 0x7f) == DCEP_RELIABLE ? 0u : 1500u));
    CHECK(back.label_len == 3 && memcmp(back.label, "a\0b", 3) == 0);
    CHECK(back.protocol_len == 4 && memcmp(back.protocol, "json", 4) == 0);
    CHECK(dcep_write_open(&o, buf, n - 1) == 0); /* too small a buffer */
  }
  uint8_t ack[1];
  CHECK(dcep_write_ack(ack, sizeof ack) == 1 && ack[0] == DCEP_MSG_ACK);
  CHECK(dcep_write_ack(ack, 0) == 0);
  CHECK(dcep_parse(ack, 1, NULL) == DCEP_MSG_ACK);
}

static void test_refused(void) {
  uint8_t msg[DCEP_OPEN_HEADER + 8] = {0x03, 0x00, 0,   0,   0,   0,   0,   0,   0,  4, 0,
                                       4,    'a',  'b', 'c', 'd', 'p', 'r', 'o', 't'};
  dcep_open o;
  CHECK(dcep_parse(msg, sizeof msg, &o) == DCEP_MSG_OPEN);
  CHECK(dcep_parse(msg, sizeof msg - 1, &o) == -1); /* cut short */
  CHECK(dcep_parse(msg, DCEP_OPEN_HEADER - 1, &o) == -1);
  msg[9] = 5; /* label length past the end */
  CHECK(dcep_parse(msg, sizeof msg, &o) == -1);
  msg[9] = 3; /* one byte left over */
  CHECK(dcep_parse(msg, sizeof msg, &o) == -1);
  msg[9] = 4;
  msg[1] = 0x03; /* unknown channel type */
  CHECK(dcep_parse(msg, sizeof msg, &o) == -1);
  msg[1] = 0x00;
  msg[0] = 0x04; /* unknown message type */
  CHECK(dcep_parse(msg, sizeof msg, &o) == -1);
  const uint8_t long_ack[] = {0x02, 0x00};
  CHECK(dcep_parse(long_ack, sizeof long_ack, NULL) == -1);
  CHECK(dcep_parse(NULL, 0, NULL) == -1);
  /* A label over our limit, with a matching length, is refused; so is writing one. */
  static uint8_t big[DCEP_OPEN_HEADER + DCEP_MAX_LABEL + 1];
  memset(big, 'x', sizeof big);
  big[0] = 0x03, big[1] = 0x00;
  big[8] = (uint8_t)((DCEP_MAX_LABEL + 1) >> 8), big[9] = (uint8_t)(DCEP_MAX_LABEL + 1);
  big[10] = big[11] = 0;
  CHECK(dcep_parse(big, sizeof big, &o) == -1);
  big[8] = (uint8_t)(DCEP_MAX_LABEL >> 8), big[9] = (uint8_t)DCEP_MAX_LABEL;
  CHECK(dcep_parse(big, sizeof big - 1, &o) == DCEP_MSG_OPEN &&
        o.label_len == DCEP_MAX_LABEL);
  dcep_open w = {.channel_type = DCEP_RELIABLE, .label_len = DCEP_MAX_LABEL + 1};
  static uint8_t out[2 * DCEP_MAX_LABEL + 64];
  CHECK(dcep_write_open(&w, out, sizeof out) == 0);
  w.label_len = 1;
  w.channel_type = 0x42;
  CHECK(dcep_write_open(&w, out, sizeof out) == 0);
}

int main(void) {
  test_parse_chromium_open();
  test_round_trip();
  test_refused();
  CHECK_DONE();
}
